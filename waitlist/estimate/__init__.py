"""Wait estimates in plain Python: the snapshot they read, what the restaurant's own data says, and the quote.
The backtest that replays past evenings through them is a use case (waitlist.services.backtest)."""
