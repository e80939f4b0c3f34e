"""PyTorch reference for `deno task bench`: the same small CNN, the same plain SGD step and
KDIGA step (CE + squared norm of the input gradient, by double backprop), median and fastest
wall time in ms of N steps after warm-up, printed as one JSON object on stdout."""
import argparse, json, time

import torch
import torch.nn as nn
import torch.nn.functional as F

parser = argparse.ArgumentParser()
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--batch", type=int, default=128)
parser.add_argument("--steps", type=int, default=10)
parser.add_argument("--warmup", type=int, default=3)
args = parser.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)

net = nn.Sequential(
    nn.Conv2d(1, 32, 3, 2, 1), nn.ReLU(),
    nn.Conv2d(32, 64, 3, 2, 1), nn.ReLU(),
    nn.Flatten(), nn.Linear(64 * 7 * 7, 10),
)
x = torch.rand(args.batch, 1, 28, 28)
y = torch.randint(0, 10, (args.batch,))
opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)


def plain():
    opt.zero_grad()
    F.cross_entropy(net(x), y).backward()
    opt.step()


def kdiga():
    xx = x.clone().requires_grad_(True)
    ce = F.cross_entropy(net(xx), y)
    (g,) = torch.autograd.grad(ce, xx, create_graph=True)
    loss = ce + (g ** 2).sum()
    opt.zero_grad()
    loss.backward()
    opt.step()


def timings_ms(step):
    for _ in range(args.warmup):
        step()
    times = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return times[len(times) // 2], times[0]


plain_median, plain_min = timings_ms(plain)
kdiga_median, kdiga_min = timings_ms(kdiga)
print(json.dumps({"version": torch.__version__, "plain": plain_median, "kdiga": kdiga_median,
                  "plainMin": plain_min, "kdigaMin": kdiga_min}))
