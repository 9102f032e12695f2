"""manifoldscape: landscapes of nonconvex problems with symmetry on Riemannian manifolds."""
