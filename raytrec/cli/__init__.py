"""The ``raytrec`` command line."""
