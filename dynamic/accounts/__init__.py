"""The citizen's account: registration, password login, confirmation links, the profile and
its verified values. See ARCHITECTURE.md, "The dynamic tier"."""
