"""The emulator's HTTP surface: the OAuth hosts (`oauth`) and the Graph host (`graph`)."""
