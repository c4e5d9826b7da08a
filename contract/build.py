# Ref: README.md, "Register map" (CAPS, CHANNELS, PK_STATUS.max_words: build parameters)
"""The card's build defaults: one frozen configuration object, :data:`BUILD`.

Every default size of a card build is defined here once; the gateware
(:class:`pacsim.hdl.card.PacCard`), the behavioural model
(:class:`pacsim.sim.card_model.CardModel`, :class:`pacsim.sim.model_bus.ModelBus`),
the test bench and the command line take their defaults from it. A build
reports its parameters in ``CAPS.burst_words``, ``CHANNELS.count`` and
``PK_STATUS.max_words``, so the driver reads them from the card and never
assumes them.
"""
from dataclasses import dataclass

from .regmap import MAX_CHANNELS, WINDOWS
from .rng import RESEED_INTERVAL

__all__ = ["BuildDefaults", "BUILD"]


@dataclass(frozen=True)
class BuildDefaults:
    """Default parameters of a card build.

    - ``card_channels``: channels of the gateware card (``CHANNELS.count``, 1..256);
    - ``model_channels``: channels of the behavioural model (fewer: faster tests);
    - ``burst_words``: longest DMA burst the card masters, 32-bit words (a power of two, 4..128);
    - ``buffer_words``: each data buffer of the card, 32-bit words (a power of two, at least 2 bursts);
    - ``pk_words``: largest public-key modulus, 32-bit words (``PK_STATUS.max_words``; an
      operand slot of the ``PK_OPERANDS`` window);
    - ``pk_mul_bits``: the public-key unit's multiplier digit width, bits;
    - ``rng_reseed_interval``: generate requests the RNG serves between seeds.
    """
    card_channels: int = 64
    model_channels: int = 16
    burst_words: int = 128
    buffer_words: int = 512
    pk_words: int = WINDOWS["PK_OPERANDS"][1] // 4
    pk_mul_bits: int = 64
    rng_reseed_interval: int = RESEED_INTERVAL

    def __post_init__(self):
        for name in ("card_channels", "model_channels"):
            if not 1 <= getattr(self, name) <= MAX_CHANNELS:
                raise ValueError(f"{name}={getattr(self, name)}: expected 1 to {MAX_CHANNELS}")


#: The build defaults of this card.
BUILD = BuildDefaults()
