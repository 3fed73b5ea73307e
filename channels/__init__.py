"""Input and output channels, one package per platform, plus the agents' workspace."""
