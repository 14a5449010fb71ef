"""What the trainer, reco-service and shop share: settings, the event schema, the Redis layout."""
