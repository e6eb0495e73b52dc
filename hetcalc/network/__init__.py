"""What a network is (the layer graph) and how one is obtained (specs, built-ins, importers)."""
