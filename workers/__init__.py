"""RQ job functions and the worker class that runs them."""
