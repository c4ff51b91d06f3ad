"""Settings of ``bench_bigfive``'s floor server: FocusedRoom's own, with the URLs of ``bigfive_floor``."""

from focusedroom.settings import *  # noqa: F403

ROOT_URLCONF = "bigfive_floor"
