"""The PyTorch eager peer of `npm run bench -- --peer torch`.

The policy of src/core/model/transformer.ts written as a PyTorch user would write it (nanoGPT
style), timed on the same work as the bench's wasm column, so that the two can be compared in one
run. It reads a JSON request on stdin and prints one JSON object on stdout; src/bench/torchPeer.ts
writes the request and reads the answer.

    python3 src/bench/torch_peer.py [--threads N] < request.json

Request: {"mode": "bench" | "logits", "model": ModelConfig, "checkpoint": {"manifest", "weights"}
or null (random weights), "emittable": [bool] * V, "temperature", "seed",
bench: "sampling": {"rows", "positions", "sampledTokens", optional "rowPositions": [int] * rows},
"updates": [{"rows", "positions", "trainedTokens", optional "buckets": [{"rows", "positions"}]}],
"optimizer": {"learningRate", "beta1", "beta2", "epsilon", "gradClip"},
"clip": {"clipLow", "clipHigh", "dualClip"}, "entropyCoef", optional "samplingRepeats" (timed
sampling runs after the warm-up, the fastest kept; default 1; the bench sends as many as its
own column timed) and "repeats" (the same for the updates; default 1, as the bench's columns);
logits: "tokens": [[id] * T] * B.

What is matched, per unit of work (same FLOPs in the model):
- The model: vocabulary, context, layers, width, heads, MLP width; pre-LayerNorm (eps 1e-5),
  fused q/k/v projection with bias, attention scaled by 1/sqrt(head size), ReLU MLP, learned
  positions, final LayerNorm, output head tied to the token embedding; float32.
- Sampling: the rows decoded in lockstep through a key/value cache, as rollout.ts does, each for
  as many positions as it was there (`rowPositions`): a row that ends leaves the batch on both
  sides (ours does so in Node, where the bench runs), so each position decodes the same number
  of rows (here the rows are kept longest first, so the batch and cache shrink to a prefix, a
  view; there the cache's rows still going are sliced out and joined); per position the
  logits, a softmax at the temperature over the emittable tokens, its entropy, an inverse-CDF
  draw from a uniform and the drawn token's log-probability, for every row going.
- An update: a forward and backward on each of its buckets' [rows, positions] tokens (the batches
  ours ran its passes on, src/core/tao/lossBuckets.ts; [rows, positions] when it names none),
  gradients accumulated, every mean over the whole update's weight; log-softmax at the
  temperature over the emittable tokens, the target's log-prob and the entropy at every
  position (entropy in the graph with its coefficient, as loss.ts), PPO's clipped surrogate with
  clip-higher and dual clip, token mean over `trainedTokens` weighted positions (spread over the
  buckets by their positions), the clip fractions; global-norm gradient clipping and one Adam
  step (same formula as adam.ts).
Not matched:
- The embedding is a lookup here, a one-hot matmul in ours (V x D more multiply-adds per token,
  about 2% of tiny's); the key/value cache is preallocated and written in place here, where ours
  concatenates (a copy of the cache per position) and copies out the rows going when one ends;
  drawing runs in torch here, in JavaScript on the logits read back there.
- Ours samples through the whole rollout (prompt and tool-result tokens forced, tool calls run,
  finished rows detected); the peer runs only the model and the draw, with its own tokens. The
  tokens do not change the work: the shapes are fixed by rows and positions.
- The updates train random tokens with random advantages; ours trains the bench's trajectories.
The bench gives the peer its wasm column's batch sizes and its numerators (sampled and trained
tokens), so the two tokens/s figures are the same work over each side's seconds.
"""

import argparse
import json
import math
import os
import platform
import sys
import time

try:
    import torch
    import torch.nn.functional as F
except ImportError as error:  # the bench says "skipped" with this line
    print(json.dumps({"error": f"torch is not importable: {error}"}))
    sys.exit(3)

LN_EPSILON = 1e-5
MASKED_LOGIT = -1e9


class Block(torch.nn.Module):
    """Pre-LayerNorm block: x + attention(ln1(x)), then x + mlp(ln2(x)). [B, T, D] -> [B, T, D]"""

    def __init__(self, width: int, heads: int, hidden: int):
        super().__init__()
        self.heads = heads
        self.ln1 = torch.nn.LayerNorm(width, eps=LN_EPSILON)
        self.qkv = torch.nn.Linear(width, 3 * width)
        self.proj = torch.nn.Linear(width, width)
        self.ln2 = torch.nn.LayerNorm(width, eps=LN_EPSILON)
        self.fc = torch.nn.Linear(width, hidden)
        self.out = torch.nn.Linear(hidden, width)

    def split_heads(self, x):  # [B, T, 3D] -> q, k, v each [B, H, T, K]
        B, T, three_d = x.shape
        K = three_d // 3 // self.heads
        return [part.reshape(B, T, self.heads, K).transpose(1, 2) for part in x.split(three_d // 3, dim=-1)]

    def mlp(self, x):
        return self.out(F.relu(self.fc(self.ln2(x))))

    def forward(self, x, causal_mask):  # x [B, T, D], causal_mask [T, T] additive
        B, T, D = x.shape
        q, k, v = self.split_heads(self.qkv(self.ln1(x)))
        scores = q @ k.transpose(-1, -2) * (1 / math.sqrt(q.shape[-1])) + causal_mask  # [B, H, T, T]
        attended = (scores.softmax(-1) @ v).transpose(1, 2).reshape(B, T, D)
        x = x + self.proj(attended)
        return x + self.mlp(x)

    def decode(self, x, keys, values, position):
        """One position: x [B, 1, D]; keys/values [B, H, context, K] written at `position`."""
        B, _, D = x.shape
        q, k, v = self.split_heads(self.qkv(self.ln1(x)))  # each [B, H, 1, K]
        keys[:, :, position : position + 1] = k
        values[:, :, position : position + 1] = v
        scores = q @ keys[:, :, : position + 1].transpose(-1, -2) * (1 / math.sqrt(q.shape[-1]))  # [B, H, 1, t+1]
        attended = (scores.softmax(-1) @ values[:, :, : position + 1]).transpose(1, 2).reshape(B, 1, D)
        x = x + self.proj(attended)
        return x + self.mlp(x)


class Policy(torch.nn.Module):
    def __init__(self, config):
        super().__init__()
        V, T, D = config["vocabSize"], config["contextLength"], config["width"]
        self.config = config
        self.token_embedding = torch.nn.Embedding(V, D)  # [V, D], also the output head
        self.position_embedding = torch.nn.Embedding(T, D)
        self.blocks = torch.nn.ModuleList(
            Block(D, config["heads"], D * config["mlpRatio"]) for _ in range(config["layers"])
        )
        self.ln_final = torch.nn.LayerNorm(D, eps=LN_EPSILON)

    def head(self, x):  # [B, T, D] -> [B, T, V]
        return self.ln_final(x) @ self.token_embedding.weight.t()

    def forward(self, tokens):  # [B, T] -> logits [B, T, V]
        T = tokens.shape[1]
        x = self.token_embedding(tokens) + self.position_embedding.weight[:T]
        causal_mask = (torch.ones(T, T).tril() - 1) * 1e9
        for block in self.blocks:
            x = block(x, causal_mask)
        return self.head(x)

    def empty_cache(self, rows):
        c = self.config
        shape = (rows, c["heads"], c["contextLength"], c["width"] // c["heads"])
        return [(torch.zeros(shape), torch.zeros(shape)) for _ in self.blocks]

    def decode(self, tokens, cache, position):  # tokens [B] -> logits [B, V]
        x = self.token_embedding(tokens)[:, None] + self.position_embedding.weight[position]
        for block, (keys, values) in zip(self.blocks, cache):
            x = block.decode(x, keys, values, position)
        return self.head(x)[:, 0]


def load_checkpoint(policy, checkpoint):
    """Weights in the workbench's checkpoint layout: float32 in the manifest's order, [in, out] matrices."""
    with open(checkpoint["manifest"]) as f:
        manifest = json.load(f)
    with open(checkpoint["weights"], "rb") as f:
        flat = torch.frombuffer(bytearray(f.read()), dtype=torch.float32)
    targets = {
        "tokenEmbedding": (policy.token_embedding.weight, False),
        "positionEmbedding": (policy.position_embedding.weight, False),
        "lnFinalGain": (policy.ln_final.weight, False),
        "lnFinalBias": (policy.ln_final.bias, False),
    }
    for i, block in enumerate(policy.blocks):
        for name, (param, transposed) in {
            "ln1Gain": (block.ln1.weight, False),
            "ln1Bias": (block.ln1.bias, False),
            "qkvWeight": (block.qkv.weight, True),
            "qkvBias": (block.qkv.bias, False),
            "projWeight": (block.proj.weight, True),
            "projBias": (block.proj.bias, False),
            "ln2Gain": (block.ln2.weight, False),
            "ln2Bias": (block.ln2.bias, False),
            "fcWeight": (block.fc.weight, True),
            "fcBias": (block.fc.bias, False),
            "outWeight": (block.out.weight, True),
            "outBias": (block.out.bias, False),
        }.items():
            targets[f"blocks.{i}.{name}"] = (param, transposed)
    offset = 0
    with torch.no_grad():
        for entry in manifest["weights"]:
            size = math.prod(entry["shape"])
            values = flat[offset : offset + size].reshape(entry["shape"])
            param, transposed = targets.pop(entry["name"])
            param.copy_(values.t() if transposed else values)
            offset += size
    if targets or offset != flat.numel():
        raise ValueError(f"checkpoint does not fit the model: missing {sorted(targets)}, {flat.numel() - offset} floats left")


def emittable_log_softmax(logits, emittable_bias, temperature):
    return (logits / temperature + emittable_bias).log_softmax(-1)


@torch.inference_mode()
def sample(policy, rows, positions, emittable_bias, temperature, generator, row_positions=None):
    """`positions` decoding positions of `rows` rows, each row for its `row_positions` entry (all
    `positions` when None): rows are kept longest first, so the rows still going at a position are
    the first ones, and the batch and the cache shrink to them (views, no copy). Returns the drawn
    tokens' log-probs' sum (kept live)."""
    lengths = sorted(row_positions or [positions] * rows, reverse=True)
    cache = policy.empty_cache(rows)
    tokens = torch.ones(rows, dtype=torch.long)  # BOS
    total = torch.zeros(())
    for position in range(positions):
        going = sum(1 for length in lengths if length > position)
        if going < tokens.shape[0]:
            tokens = tokens[:going]
            cache = [(keys[:going], values[:going]) for keys, values in cache]
        log_probs = emittable_log_softmax(policy.decode(tokens, cache, position), emittable_bias, temperature)  # [B, V]
        probs = log_probs.exp()
        entropy = -(probs * log_probs).sum(-1)
        u = torch.rand(going, 1, generator=generator)
        tokens = torch.searchsorted(probs.cumsum(-1), u).clamp_max(probs.shape[-1] - 1)[:, 0]
        logprob = log_probs.gather(-1, tokens[:, None])[:, 0]
        total = total + logprob.sum() + entropy.sum()
    return float(total)


def clipped_surrogate(logprob, old_logprob, advantage, clip):
    """PPO's clipped surrogate with clip-higher and dual clip (loss.ts's clippedSurrogate)."""
    ratio = (logprob - old_logprob).exp()
    unclipped = -advantage * ratio
    clipped_term = -advantage * ratio.clamp(1 - clip["clipLow"], 1 + clip["clipHigh"])
    pessimistic = torch.maximum(unclipped, clipped_term)
    dual_bound = -advantage * clip["dualClip"]
    per_token = torch.where(advantage < 0, torch.minimum(dual_bound, pessimistic), pessimistic)
    return per_token, ratio, unclipped, clipped_term, pessimistic, dual_bound


def make_update_batch(policy, update, emittable_ids, emittable_bias, temperature, generator):
    """Random trajectories of the update's buckets (the batches it ran its passes on; one bucket of
    [rows, positions] when the request names none), the trained tokens spread over the buckets in
    proportion to their positions; old log-probs from the current policy."""
    buckets = update.get("buckets") or [{"rows": update["rows"], "positions": update["positions"]}]
    sizes = [b["rows"] * b["positions"] for b in buckets]
    batch = []
    for bucket, size in zip(buckets, sizes):
        B, T = bucket["rows"], bucket["positions"]
        trained = max(1, min(size, round(update["trainedTokens"] * size / sum(sizes))))
        pick = torch.randint(len(emittable_ids), (B, T + 1), generator=generator)
        tokens = emittable_ids[pick]
        weight = torch.zeros(B * T)
        weight[torch.randperm(B * T, generator=generator)[:trained]] = 1
        with torch.no_grad():
            log_probs = emittable_log_softmax(policy(tokens[:, :-1]), emittable_bias, temperature)
            old = log_probs.gather(-1, tokens[:, 1:, None])[..., 0]
        old = old + 0.05 * torch.randn(B, T, generator=generator)
        advantage = torch.randn(B, 1, generator=generator).expand(B, T).contiguous()
        batch.append((tokens, old, advantage, weight.reshape(B, T)))
    return batch


def update_step(policy, optimizer, batch, emittable_bias, request):
    """One PPO update: the loss and its gradients bucket by bucket, each bucket's means over the
    whole batch's weight (gradient accumulation, as lossBuckets.ts), then the global-norm clip and
    Adam. Returns the loss and the norm."""
    weight_sum = sum(weight.sum() for _, _, _, weight in batch)
    optimizer.zero_grad(set_to_none=True)
    total = 0.0
    for tokens, old_logprob, advantage, weight in batch:
        log_probs = emittable_log_softmax(policy(tokens[:, :-1]), emittable_bias, request["temperature"])  # [B, T, V]
        logprob = log_probs.gather(-1, tokens[:, 1:, None])[..., 0]
        entropy = -(log_probs.exp() * log_probs).sum(-1)
        per_token, ratio, unclipped, clipped_term, pessimistic, dual_bound = clipped_surrogate(
            logprob, old_logprob, advantage, request["clip"]
        )
        policy_term = (per_token * weight).sum() / weight_sum
        entropy_mean = (entropy * weight).sum() / weight_sum
        loss = policy_term - request["entropyCoef"] * entropy_mean
        with torch.no_grad():  # the figures ours reads back with the loss
            clip = request["clip"]
            fractions = torch.stack(
                [
                    ((clipped_term > unclipped).float() * weight).sum(),
                    (((ratio < 1 - clip["clipLow"]) & (advantage < 0)).float() * weight).sum(),
                    (((ratio > 1 + clip["clipHigh"]) & (advantage > 0)).float() * weight).sum(),
                    (((pessimistic > dual_bound) & (advantage < 0)).float() * weight).sum(),
                    ((old_logprob - logprob) * weight).sum(),
                ]
            ) / weight_sum
        loss.backward()
        fractions.tolist()
        total += float(loss)
    norm = torch.nn.utils.clip_grad_norm_(policy.parameters(), request["optimizer"]["gradClip"])
    optimizer.step()
    return total, float(norm)


def bench(policy, request, emittable_bias, generator):
    repeats = request.get("repeats", 1)  # timed runs after the warm-up; the fastest is kept
    answer = {}
    sampling = request["sampling"]
    t0 = time.perf_counter()
    sample(policy, sampling["rows"], sampling["positions"], emittable_bias, request["temperature"], generator, sampling.get("rowPositions"))
    warmup = time.perf_counter() - t0
    seconds = math.inf
    for _ in range(request.get("samplingRepeats", 1)):
        t0 = time.perf_counter()
        sample(policy, sampling["rows"], sampling["positions"], emittable_bias, request["temperature"], generator, sampling.get("rowPositions"))
        seconds = min(seconds, time.perf_counter() - t0)
    answer["sampling"] = {
        **sampling,
        "seconds": seconds,
        "warmupSeconds": warmup,
        "tokensPerSecond": sampling["sampledTokens"] / seconds,
    }

    updates = request["updates"]
    if updates:
        o = request["optimizer"]
        optimizer = torch.optim.Adam(
            policy.parameters(), lr=o["learningRate"], betas=(o["beta1"], o["beta2"]), eps=o["epsilon"]
        )
        emittable_ids = emittable_bias.eq(0).nonzero()[:, 0]
        batches = [
            make_update_batch(policy, u, emittable_ids, emittable_bias, request["temperature"], generator)
            for u in updates
        ]
        t0 = time.perf_counter()
        update_step(policy, optimizer, batches[0], emittable_bias, request)  # Adam's state, allocator warm-up
        warmup = time.perf_counter() - t0
        seconds = math.inf
        for _ in range(repeats):
            t0 = time.perf_counter()
            for batch in batches:
                update_step(policy, optimizer, batch, emittable_bias, request)
            seconds = min(seconds, time.perf_counter() - t0)
        trained = sum(u["trainedTokens"] for u in updates)
        answer["training"] = {
            "updates": len(updates),
            "rows": [u["rows"] for u in updates],
            "positions": [u["positions"] for u in updates],
            "buckets": [u.get("buckets") for u in updates],
            "trainedTokens": trained,
            "seconds": seconds,
            "warmupSeconds": warmup,
            "tokensPerSecond": trained / seconds,
        }
    return answer


@torch.no_grad()
def logits(policy, request):
    """Logits of the full forward and of the cached decoding, position by position, flat [B * T * V]."""
    tokens = torch.tensor(request["tokens"], dtype=torch.long)
    B, T = tokens.shape
    full = policy(tokens)
    cache = policy.empty_cache(B)
    decoded = torch.stack([policy.decode(tokens[:, t], cache, t) for t in range(T)], dim=1)
    return {"shape": [B, T, full.shape[-1]], "forward": full.flatten().tolist(), "decode": decoded.flatten().tolist()}


def blas_libraries():
    """The BLAS libraries this process has loaded (torch's matmuls on CPU go through one): the
    peer's speed depends on it, and Debian's python3-torch comes with the reference BLAS."""
    torch.ones(8, 8) @ torch.ones(8, 8)
    try:
        with open("/proc/self/maps") as f:
            paths = {os.path.realpath(line.split()[-1]) for line in f if line.rstrip().endswith(".so") or ".so." in line}
    except OSError:
        return ["unknown"]
    return sorted(p for p in paths if "blas" in os.path.basename(p).lower() or "mkl" in os.path.basename(p).lower()) or ["none found"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    request = json.load(sys.stdin)
    torch.manual_seed(request.get("seed", 1))
    generator = torch.Generator().manual_seed(request.get("seed", 1))
    policy = Policy(request["model"])
    if request.get("checkpoint"):
        load_checkpoint(policy, request["checkpoint"])
    answer = {
        "torch": torch.__version__,
        "python": platform.python_version(),
        "threads": torch.get_num_threads(),
        "blas": blas_libraries(),
        "parameters": sum(p.numel() for p in policy.parameters()),
    }
    if request["mode"] == "logits":
        answer.update(logits(policy, request))
    else:
        emittable_bias = torch.tensor([0.0 if ok else MASKED_LOGIT for ok in request["emittable"]])
        answer.update(bench(policy, request, emittable_bias, generator))
    print(json.dumps(answer))


if __name__ == "__main__":
    main()
