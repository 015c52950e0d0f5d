"""Routing: the router (local, cloud or declined, with machine-readable reasons) and its
calibration on evaluation sets."""
