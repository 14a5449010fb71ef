"""Simulated shoppers for Vitrina: `vitrina-sim` drives a running shop over HTTP."""
