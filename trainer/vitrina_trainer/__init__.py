"""The trainer: reads the events, trains the recommender and publishes its rankings to Redis."""
