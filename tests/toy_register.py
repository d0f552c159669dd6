"""Importing this registers the toy simulator (used via `archgym --import toy_register`)."""
import archgym
from archgym import registry
from toysim import ToySimulator

if "Toy-v0" not in registry._SIMS:
    archgym.register("Toy-v0", ToySimulator)
