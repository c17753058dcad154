"""Image files in and out: PNG decoding, read-ahead, writing."""
