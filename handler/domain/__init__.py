"""Domain logic: pure rules about conversations and members, with no AWS and no environment.

Time, randomness and storage come in as arguments (`ports.Store`), so every rule is tested
without I/O.
"""
