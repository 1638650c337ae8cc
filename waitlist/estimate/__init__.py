"""Wait estimates (plain Python) and the backtest that replays past evenings through them."""
