"""Feature tables as model inputs."""
