"""One module per system of the engine benchmark; each runs inside its own subprocess."""
