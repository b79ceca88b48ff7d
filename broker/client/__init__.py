"""``vva client``: the command-line client for schools, institutions and gemeenten without a coupled
LAS. It does the Edukoppeling work (signing, addressing, verifying the answer) with the broker's own
signer and zeep, configured by a small TOML file."""
