"""A plugin module as a user writes one: importing it registers the toy simulator
(used as ``archgym --import toy_register``)."""
import archgym
from archgym.testing import ToySimulator

if "Toy-v0" not in archgym.list_simulators():
    archgym.register("Toy-v0", ToySimulator)
