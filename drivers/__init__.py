"""The driver layer: one Card -> Span -> Channel model over interchangeable backends."""
