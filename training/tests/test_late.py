"""Late interaction in training: the batched MaxSim the maxsim loss uses equals the per-query scoring
the evaluation and teacher use, and special tokens never count."""
import torch

from aside_training.late import content_mask, maxsim, maxsim_matrix, pad_states


def test_content_mask_drops_cls_and_last_real_token():
    am = torch.tensor([[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]])
    assert content_mask(am).int().tolist() == [[0, 1, 1, 0, 0], [0, 1, 1, 1, 0]]


def test_batched_maxsim_equals_per_query_scoring():
    g = torch.Generator().manual_seed(0)
    unit = lambda *s: torch.nn.functional.normalize(torch.randn(*s, 8, generator=g), dim=-1)  # noqa: E731
    queries, docs = [unit(3), unit(5)], [unit(4), unit(7), unit(2)]
    q, qm = pad_states(queries)
    d, dm = pad_states(docs)
    batched = maxsim_matrix(q, qm, d, dm)
    for i, qs in enumerate(queries):
        assert torch.allclose(batched[i], maxsim(qs, d, dm), atol=1e-5)
    # a padded query row adds nothing: the 3-token query scored alone equals its padded row
    assert torch.allclose(batched[0, 2], maxsim(queries[0], docs[2][None], torch.ones(1, 2, dtype=torch.bool))[0], atol=1e-5)
