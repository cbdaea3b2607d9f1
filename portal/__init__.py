"""Vocabulary shared by the build (generator/) and the app (dynamic/)."""
