"""The HTTP layer: the app factory, thin views, pages, errors, rate limits and metrics."""
