"""A synthetic SME-register file of any size, for tests and the benchmark.

:func:`write_synthetic_sme` streams ``n`` ``Документ`` records (companies and sole
traders with valid INN/OGRN check digits, a region and town, one main and a few
additional OKVED2 codes of manufacturing) to a file, never holding more than one
record; :func:`synthetic_inns` gives the INNs it writes, so a caller can pick a
members list without reading the file.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import quoteattr

from coopgraph.graph.classifiers import okved_names

__all__ = ["synthetic_inn", "synthetic_inns", "write_synthetic_sme"]

_W10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_W11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_W12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_TOWNS = ("ЛИПЕЦК", "ЕЛЕЦ", "ГРЯЗИ", "ДАНКОВ", "ЛЕБЕДЯНЬ", "УСМАНЬ", "ЗАДОНСК", "ЧАПЛЫГИН")


def _digit(digits: str, weights: tuple[int, ...]) -> str:
    return str(sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10)


def _inn(i: int) -> str:
    """The ``i``-th synthetic INN: even ``i`` an organisation (10 digits), odd a person (12)."""
    region = f"{48 + (i // 7) % 3:02d}"
    if i % 2 == 0:
        head = f"{region}{i // 2:07d}"[:9]
        return head + _digit(head, _W10)
    head = f"{region}{i // 2:08d}"[:10]
    head += _digit(head, _W11)
    return head + _digit(head, _W12)


def synthetic_inn(i: int) -> str:
    """The INN of the ``i``-th record :func:`write_synthetic_sme` writes."""
    return _inn(i)


def synthetic_inns(n: int) -> Iterator[str]:
    """The INNs :func:`write_synthetic_sme` writes for ``n`` records, in order."""
    return (_inn(i) for i in range(n))


def write_synthetic_sme(path: str | Path, n: int, *, seed: int = 0) -> Path:
    """Write an SME-register XML file of ``n`` records to ``path`` (UTF-8); return the path."""
    rng = random.Random(seed)
    codes = [c for c in okved_names() if c[:2] in {"22", "24", "25", "27", "28", "29", "33"}
             and c.count(".") >= 1]
    path = Path(path)
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="utf-8"?>\n<Файл ИдФайл="SYNTH" ВерсФорм="4.02" '
                  f'ТипИнф="ВЫГР_РЕЕСТР_МСП" КолДок="{n}">\n')
        for i in range(n):
            inn = _inn(i)
            region = inn[:2]
            town = _TOWNS[rng.randrange(len(_TOWNS))]
            picked = rng.sample(codes, 1 + rng.randrange(4))
            okved = "".join(
                f'<{"СвОКВЭДОсн" if k == 0 else "СвОКВЭДДоп"} КодОКВЭД="{c}" '
                f'НаимОКВЭД="вид деятельности" ВерсОКВЭД="2014"/>' for k, c in enumerate(picked))
            if i % 2 == 0:
                ogrn = f"1{i % 90 + 10:02d}{region}{i:07d}"[:12]
                ogrn += str(int(ogrn) % 11 % 10)
                full = quoteattr(f"ОБЩЕСТВО С ОГРАНИЧЕННОЙ ОТВЕТСТВЕННОСТЬЮ «ЗАВОД-{i}»")
                who = (f'<ОргВклМСП НаимОрг={full} '
                       f'НаимОргСокр={quoteattr(f"ООО «ЗАВОД-{i}»")} ИННЮЛ="{inn}" ОГРН="{ogrn}"/>')
                kind = "1"
            else:
                ogrn = f"3{i % 90 + 10:02d}{region}{i:09d}"[:14]
                ogrn += str(int(ogrn) % 13 % 10)
                who = (f'<ИПВклМСП ИННФЛ="{inn}" ОГРНИП="{ogrn}"><ФИОИП Фамилия="ИВАНОВ" '
                       f'Имя="ИВАН" Отчество="ИВАНОВИЧ"/></ИПВклМСП>')
                kind = "2"
            out.write(
                f'<Документ ИдДок="{i:036d}" ДатаСост="10.06.2024" ДатаВклМСП="01.08.2016" '
                f'ВидСубМСП="{kind}" КатСубМСП="1" ПризНовМСП="2">{who}'
                f'<СведМН КодРегион="{region}"><Регион Тип="ОБЛАСТЬ" Наим="ЛИПЕЦКАЯ"/>'
                f'<Город Тип="ГОРОД" Наим="{town}"/></СведМН><СвОКВЭД>{okved}</СвОКВЭД>'
                "</Документ>\n")
        out.write("</Файл>\n")
    return path
