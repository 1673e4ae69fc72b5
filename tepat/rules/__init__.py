"""Framework-free domain rules: pure functions over plain values, no Django, no I/O."""
