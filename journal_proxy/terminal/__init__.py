"""What terminals make of log text: escape sequences removed or kept, SGR colours and redraws as
classes from a fixed list.  Below both the masker and the renderers, which see text alike."""
