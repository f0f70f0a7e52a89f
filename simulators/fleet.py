"""Fleet definitions: tenants, sites and devices; per-device seeds derive from the fleet seed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from registry.models import Device, Site, Tenant
from simulators.models import DeviceSpec

ROBOT, SLOPE, BRIDGE, PUMP = "substation-robot", "slope-monitor", "bridge-monitor", "pump-motor"


def derive_seed(fleet_seed: int, key: str) -> int:
    """A stable 63-bit seed for one device or site (independent of Python's hash salt)."""
    digest = hashlib.sha256(f"{fleet_seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


@dataclass(frozen=True)
class Fleet:
    """Who owns what, where, and the devices to simulate."""

    name: str
    tenants: tuple[Tenant, ...]
    sites: tuple[Site, ...]
    devices: tuple[DeviceSpec, ...]

    def registry_devices(self) -> list[Device]:
        """The devices as the registry stores them."""
        return [
            Device(d.id, d.type_id, d.tenant_id, d.site_id, d.name, serial_number=f"SN-{d.id}")
            for d in self.devices
        ]

    def sites_of(self, tenant_id: str) -> list[Site]:
        """A tenant's sites."""
        return [s for s in self.sites if s.tenant_id == tenant_id]


_SiteRow = tuple[str, str, str, float, float, list[tuple[str, int]]]
_Layout = list[tuple[str, str, list[_SiteRow]]]
# (tenant id, tenant name, [(site id, site name, kind, lat, lon, [(type, count)])])
_DEMO: _Layout = [
    ("east-grid", "East Grid Power Supply Co.", [
        ("sub-lakeside-220kv", "Lakeside 220 kV substation", "substation", 31.23, 121.47,
         [(ROBOT, 2)]),
        ("sub-hillcrest-500kv", "Hillcrest 500 kV substation", "substation", 31.05, 121.20,
         [(ROBOT, 2)]),
    ]),
    ("riverton-city", "Riverton City Infrastructure Bureau", [
        ("slope-k12-cutting", "K12 highway cutting", "slope", 29.56, 106.55, [(SLOPE, 3)]),
        ("slope-north-hill", "North Hill residential slope", "slope", 29.60, 106.50, [(SLOPE, 3)]),
        ("bridge-river-main", "Main river bridge", "bridge", 29.55, 106.58, [(BRIDGE, 3)]),
        ("bridge-canal", "Canal street bridge", "bridge", 29.57, 106.53, [(BRIDGE, 2)]),
    ]),
    ("acme-plant", "Acme Chemical Plant", [
        ("plant-1-pumphouse", "Plant 1 pump house", "plant", 30.27, 120.15, [(PUMP, 4)]),
    ]),
]  # fmt: skip
_SMALL: _Layout = [
    ("east-grid", "East Grid Power Supply Co.", [
        ("sub-lakeside-220kv", "Lakeside 220 kV substation", "substation", 31.23, 121.47,
         [(ROBOT, 1)]),
    ]),
    ("riverton-city", "Riverton City Infrastructure Bureau", [
        ("slope-k12-cutting", "K12 highway cutting", "slope", 29.56, 106.55, [(SLOPE, 1)]),
        ("bridge-river-main", "Main river bridge", "bridge", 29.55, 106.58, [(BRIDGE, 1)]),
        ("plant-1-pumphouse", "Plant 1 pump house", "plant", 30.27, 120.15, [(PUMP, 1)]),
    ]),
]  # fmt: skip
_PREFIX = {ROBOT: "rbt", SLOPE: "slp", BRIDGE: "brg", PUMP: "pmp"}


def _build(name: str, layout: _Layout, seed: int) -> Fleet:
    tenants, sites, devices = [], [], []
    for tenant_id, tenant_name, tenant_sites in layout:
        tenants.append(Tenant(tenant_id, tenant_name))
        for site_id, site_name, kind, lat, lon, counts in tenant_sites:
            sites.append(Site(site_id, tenant_id, site_name, kind, lat, lon))
            site_seed = derive_seed(seed, "site:" + site_id)
            for type_id, count in counts:
                for i in range(1, count + 1):
                    dev_id = f"{_PREFIX[type_id]}-{site_id}-{i:02d}"
                    devices.append(
                        DeviceSpec(
                            dev_id, type_id, tenant_id, site_id, f"{site_name} #{i}",
                            derive_seed(seed, dev_id), site_seed,
                        )
                    )  # fmt: skip
    return Fleet(name, tuple(tenants), tuple(sites), tuple(devices))


def scale_fleet(n: int, seed: int) -> Fleet:
    """n devices of all four types over 10 tenants and sites of 25 devices, for benchmarks."""
    if n <= 0:
        raise ValueError("a fleet needs at least one device")
    types = [ROBOT, SLOPE, BRIDGE, PUMP]
    tenants = tuple(Tenant(f"scale-t{i}", f"Scale tenant {i}") for i in range(min(10, n)))
    sites, devices = [], []
    for i in range(n):
        tenant = tenants[i % len(tenants)].id
        site_id = f"scale-s{i // 25}"
        if i % 25 == 0:
            sites.append(Site(site_id, tenant, f"Scale site {i // 25}", "bench"))
        dev_id = f"sim-{i:06d}"
        type_id = types[i % 4]
        devices.append(
            DeviceSpec(
                dev_id, type_id, sites[-1].tenant_id, site_id, dev_id,
                derive_seed(seed, dev_id), derive_seed(seed, "site:" + site_id),
            )
        )  # fmt: skip
    return Fleet(f"scale:{n}", tenants, tuple(sites), tuple(devices))


def fleet(name: str, seed: int = 1) -> Fleet:
    """A fleet by name: demo (19 devices, 3 tenants), small (one of each type) or scale:N."""
    if name == "demo":
        return _build(name, _DEMO, seed)
    if name == "small":
        return _build(name, _SMALL, seed)
    if name.startswith("scale:"):
        try:
            count = int(name.partition(":")[2])
        except ValueError:
            raise ValueError(f"bad fleet {name!r}: use scale:<device count>") from None
        return scale_fleet(count, seed)
    raise ValueError(f"unknown fleet {name!r}; use demo, small or scale:<N>")
