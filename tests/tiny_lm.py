"""A real, tiny causal language model the tests build and train in about a minute on a CPU: a
byte-level BPE tokenizer with a chat template, and a 2-layer GPT-2 trained on the workbench's own
prompts (``core.models.llm.messages``) for labelled headlines, answering with the gold category's
letter or ``{"code": ...}``. It speaks the prompts' format; what it knows of the topics is what
1,500 headlines teach a model of a few hundred thousand weights."""

from __future__ import annotations

import random
from pathlib import Path

CHAT_TEMPLATE = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
                 "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def build_tiny_lm(folder: Path, texts: list[str], codes: list[str], candidates: dict, *, shortlist: int = 8,
                  epochs: int = 4, seed: int = 0) -> Path:
    """Train it on ``texts`` with gold ``codes``; ``candidates`` as ``connect.llm_candidates``."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    from core.models.llm import LETTERS, Candidate, messages

    rng = random.Random(seed)
    torch.manual_seed(seed)
    pool = sorted(set(codes))
    cands = {c: Candidate(c, candidates[c]["names"], candidates[c]["description"]) for c in pool}
    examples = []
    for text, gold in zip(texts, codes):
        for style in ("letters", "json"):
            listed = [gold] + rng.sample([c for c in pool if c != gold], min(shortlist - 1, len(pool) - 1))
            rng.shuffle(listed)
            answer = LETTERS[listed.index(gold)] if style == "letters" else '{"code": "%s"}' % gold
            examples.append((messages(text, [cands[c] for c in listed], style), answer))

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    corpus = [m[1]["content"] for m, _ in examples[:400]] + [m[0]["content"] for m, _ in examples[:2]] + texts
    tok.train_from_iterator(corpus, trainers.BpeTrainer(
        vocab_size=3000, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                        bos_token="<|im_start|>")
    tokenizer.chat_template = CHAT_TEMPLATE
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=1024, n_embd=128, n_layer=2, n_head=4,
                        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                        pad_token_id=tokenizer.pad_token_id)
    model = GPT2LMHeadModel(config)

    rows = []
    for msgs, answer in examples:
        prompt = tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
        p_ids = tokenizer.encode(prompt, add_special_tokens=False)
        a_ids = tokenizer.encode(answer + "<|im_end|>", add_special_tokens=False)
        ids = (p_ids + a_ids)[-1024:]
        labels = ([-100] * len(p_ids) + a_ids)[-1024:]  # the answer is what it learns
        rows.append((ids, labels))
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3)
    model.train()
    batch = 32
    for _ in range(epochs):
        rng.shuffle(rows)
        for start in range(0, len(rows), batch):
            part = rows[start:start + batch]
            width = max(len(ids) for ids, _ in part)
            ids = torch.full((len(part), width), tokenizer.pad_token_id)
            labels = torch.full((len(part), width), -100)
            mask = torch.zeros((len(part), width), dtype=torch.long)
            for k, (i, lab) in enumerate(part):
                ids[k, :len(i)] = torch.tensor(i)
                labels[k, :len(lab)] = torch.tensor(lab)
                mask[k, :len(i)] = 1
            loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
    model.eval()
    folder.mkdir(parents=True, exist_ok=True)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
