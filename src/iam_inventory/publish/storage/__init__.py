"""Where rendered files go and where earlier runs are read back: sinks, run stores, the commit pointers."""
