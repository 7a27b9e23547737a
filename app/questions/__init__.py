"""The question bank: prepare what to ask."""
