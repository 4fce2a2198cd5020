"""A 2017 inter-region proxy for Route 53's latency order: measured round trips between AWS Regions,
used by the what-if to decide which region a failed region's latency clients reach next.

Route 53 answers a latency record with the lowest-latency healthy record set for the resolver,
from AWS's own client-to-region measurements, which it does not publish (Route 53 Developer Guide,
"Latency-based routing"). The nearest stand-in with a source is the latency between the regions
themselves: clients placed in a region are taken to see the other regions in that order.

Source: "Latency Between AWS Global Regions", average ping RTT in milliseconds between EC2
instances, from each row's region to each column's, as tabulated (a secondary copy of that blog)
in "AWS Regions", https://acomputerscientistlearnsaws.blogspot.com/2017/04/aws-regions.html (April
2017). Ten regions of the 37 the program knows. The figures are dated; the model uses only their
order. Pairs it did not measure are unmeasured here, never guessed: the what-if names them.
"""

from __future__ import annotations

SOURCE = "https://acomputerscientistlearnsaws.blogspot.com/2017/04/aws-regions.html (April 2017)"

_REGIONS = (
    "us-east-1",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "sa-east-1",
)

# Rows: from; columns: to, in _REGIONS order. The source's São Paulo row is not in its extract:
# only the other regions' figures to São Paulo are kept.
_ROWS: dict[str, tuple[float | None, ...]] = {
    "us-east-1": (0, 72.74, 86.98, 80.55, 88.66, 145.3, 178.4, 216.7, 230, 119.5),
    "us-west-1": (71.63, 0, 19.46, 153.2, 166.6, 102.5, 131.5, 174, 157.5, 192.7),
    "us-west-2": (88.68, 19.2, 0, 137, 159.5, 89.1, 118.3, 161.4, 162.2, 182.7),
    "eu-west-1": (80.52, 153.2, 137, 0, 19.56, 212.4, 242.4, 239, 309.6, 191.3),
    "eu-central-1": (88.62, 166.6, 159.5, 19.55, 0, 236.5, 266.2, 325.9, 323.5, 194.9),
    "ap-northeast-1": (145.3, 102.5, 89.16, 212.4, 236.6, 0, 31.44, 73.79, 103.9, 256.8),
    "ap-northeast-2": (176.6, 132.6, 118.2, 242.4, 265.3, 31.32, 0, 71.87, 134, 286.3),
    "ap-southeast-1": (216.7, 173.9, 161.4, 238.1, 325.9, 73.81, 71.29, 0, 175.3, 328.1),
    "ap-southeast-2": (229.7, 157.8, 161.9, 309.6, 323.2, 103.9, 134, 175.4, 0, 322.5),
}


def round_trip_ms(a: str, b: str) -> float | None:
    """The measured RTT between two regions (the mean of both directions where both were measured),
    or None when the source did not measure the pair."""
    if a == b:
        return 0.0
    if a not in _REGIONS or b not in _REGIONS:
        return None
    figures = [
        row[_REGIONS.index(to)]
        for source, to in ((a, b), (b, a))
        if (row := _ROWS.get(source)) is not None and row[_REGIONS.index(to)] is not None
    ]
    return sum(f for f in figures if f is not None) / len(figures) if figures else None


def measured() -> tuple[str, ...]:
    """The regions the table covers."""
    return _REGIONS
