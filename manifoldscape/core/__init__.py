"""The core: problems, results, certificates, symmetry groups, derivative checks, the run loop.

It knows no concrete problem and no concrete solver (those register themselves in the
registries), and imports only the geometry and boundary layers below it.
"""
