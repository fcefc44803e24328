"""Keras's ``VarianceScaling`` (the Rust initializer ``src/initializers/variance_scaling.rs``)."""

from ferrograd.initializers.initializer import RandomInitializer


class VarianceScaling(RandomInitializer):
    """Draws of variance ``scale / n``, ``n`` being the fan in, the fan out or their mean
    (``mode``), from a normal truncated at two standard deviations, a normal, or a uniform
    (``distribution``); Glorot, He and LeCun are its named forms.

    Args:
        scale: a positive number; default 1.0.
        mode: ``"fan_in"`` (default), ``"fan_out"`` or ``"fan_avg"``.
        distribution: ``"truncated_normal"`` (default), ``"untruncated_normal"`` or
            ``"uniform"``.
        seed: None draws from the library's generator; an integer gives the same values at
            every call.

    Examples:
        >>> init = fg.initializers.VarianceScaling(
        ...     scale=2.0, mode="fan_out", distribution="uniform"
        ... )
        >>> init((4, 3)).shape
        (4, 3)
    """

    _name = "variance_scaling"

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        super().__init__(seed)
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not scale > 0:
            raise ValueError(
                f"VarianceScaling: scale must be a positive number. Received: scale={scale!r}"
            )
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(
                "VarianceScaling: mode must be 'fan_in', 'fan_out' or 'fan_avg'. "
                f"Received: mode={mode!r}"
            )
        distribution = "truncated_normal" if distribution == "normal" else distribution
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
            raise ValueError(
                "VarianceScaling: distribution must be 'truncated_normal', "
                f"'untruncated_normal' or 'uniform'. Received: distribution={distribution!r}"
            )
        self.scale, self.mode, self.distribution = float(scale), mode, distribution

    def get_config(self):
        return {
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            **super().get_config(),
        }
