"""Everything about texts: their wording, what a guest's reply means, the senders, and the dispatch to RQ."""
