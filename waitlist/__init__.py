"""The restaurant waitlist service. The app factory is ``waitlist.web.app.create_app``; docs/architecture.md
names each subpackage and the one direction of imports between them."""
