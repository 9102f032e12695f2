"""The problem library, installed as ``manifoldscape.problems``.

Each module is one problem family; importing this package registers every factory in
``manifoldscape.problem_registry``.
"""

if __name__ != "manifoldscape.problems":  # pragma: no cover - guard against a stray sys.path
    raise ImportError(
        f"the problem library must be imported as 'manifoldscape.problems', not {__name__!r}; "
        "install the project (pip install -e .) instead of putting its folders on sys.path"
    )

from manifoldscape.core.registry import problem_registry
from manifoldscape.problems.deconvolution import blind_deconvolution
from manifoldscape.problems.dictionary_learning import (
    dictionary_learning,
    dictionary_learning_one_sparse,
    dictionary_learning_orthogonal,
)
from manifoldscape.problems.eigen import eigenspace, rayleigh, singular_pair
from manifoldscape.problems.low_rank import (
    matrix_completion,
    matrix_sensing,
    robust_recovery,
    symmetric_factorization,
)
from manifoldscape.problems.neural_collapse import neural_collapse
from manifoldscape.problems.neural_network import one_hidden_layer
from manifoldscape.problems.phase_retrieval import phase_retrieval
from manifoldscape.problems.phase_retrieval_one import phase_retrieval_one_unknown
from manifoldscape.problems.rank1_phase_retrieval import rank1_phase_retrieval
from manifoldscape.problems.sas_deconvolution import sas_deconvolution
from manifoldscape.problems.tensor_decomposition import tensor_decomposition

problem_registry.register("rayleigh", rayleigh)
problem_registry.register("singular_pair", singular_pair)
problem_registry.register("eigenspace", eigenspace)
problem_registry.register("phase_retrieval", phase_retrieval)
problem_registry.register("phase_retrieval_one_unknown", phase_retrieval_one_unknown)
problem_registry.register("neural_collapse", neural_collapse)
problem_registry.register("one_hidden_layer", one_hidden_layer)
problem_registry.register("rank1_phase_retrieval", rank1_phase_retrieval)
problem_registry.register("symmetric_factorization", symmetric_factorization)
problem_registry.register("matrix_sensing", matrix_sensing)
problem_registry.register("matrix_completion", matrix_completion)
problem_registry.register("robust_recovery", robust_recovery)
problem_registry.register("dictionary_learning", dictionary_learning)
problem_registry.register("dictionary_learning_one_sparse", dictionary_learning_one_sparse)
problem_registry.register("dictionary_learning_orthogonal", dictionary_learning_orthogonal)
problem_registry.register("tensor_decomposition", tensor_decomposition)
problem_registry.register("blind_deconvolution", blind_deconvolution)
problem_registry.register("sas_deconvolution", sas_deconvolution)

__all__ = [
    "blind_deconvolution",
    "dictionary_learning",
    "dictionary_learning_one_sparse",
    "dictionary_learning_orthogonal",
    "eigenspace",
    "matrix_completion",
    "matrix_sensing",
    "neural_collapse",
    "one_hidden_layer",
    "phase_retrieval",
    "phase_retrieval_one_unknown",
    "rank1_phase_retrieval",
    "rayleigh",
    "robust_recovery",
    "sas_deconvolution",
    "singular_pair",
    "symmetric_factorization",
    "tensor_decomposition",
]
