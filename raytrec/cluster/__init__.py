"""Running raytrec on a Ray cluster: what a job ships (``stage``, ``wheels``) and the Ray Jobs
commands (``jobs``)."""
