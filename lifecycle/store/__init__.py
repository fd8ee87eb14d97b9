"""Storage: the ``Store`` contract every backend keeps (``base``), the URL that picks
one (``url``), and the two backends, ``sqlite`` and ``postgres``, with one module per
job under matching names. Docstring only: importing a store module runs this file."""
