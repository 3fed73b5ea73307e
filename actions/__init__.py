"""Custom actions of the assistant (rasa-sdk). Flat: rasa-sdk 3.6 imports modules by bare name."""
