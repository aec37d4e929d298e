"""Standard deviation of each descriptor over 3-s segments of real music.

Written by ``python scripts/descriptor_spread.py GTZAN_DIR`` from 1272 whole
segments of the GTZAN train split (fault-filtered); do not edit by hand.
"""

SEGMENTS = 1272
SPREAD: dict[str, float] = {
    "spectral_centroid": 860.218,
    "spectral_bandwidth": 667.053,
    "spectral_rolloff": 2028.74,
    "spectral_flatness": 0.0323342,
    "rms": 0.0808754,
    "onset_rate": 1.39926,
    "zero_crossing_rate": 0.0458678,
    "chroma_entropy": 0.187225,
}
