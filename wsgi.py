"""Entry point for gunicorn and the flask CLI: ``app = create_app()``."""
from waitlist.web.app import create_app

app = create_app()
