"""reco-service: serves the rankings the trainer published to Redis, over HTTP."""
