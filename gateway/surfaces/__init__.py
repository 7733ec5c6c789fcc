"""One blueprint per surface: portal, partner API (+ OAuth), NCPeH-to-NCPeH API, status."""
