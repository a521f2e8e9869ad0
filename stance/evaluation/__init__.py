"""Evaluation: metrics, protocols (outside-writer set, challenge set, name swaps, LODO, CV), curves, report."""
