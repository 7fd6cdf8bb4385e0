"""The component/material taxonomy of agricultural machinery, as data.

Used by the sample cluster (:mod:`ingest.sample`) and the scale generator
(:mod:`ingest.generate`), so both speak about the same categories. It holds:

- ``PROCESSES`` — manufacturing processes (casting, forging, machining…);
- ``CERTIFICATIONS`` — quality and conformity schemes (ISO 9001, ТР ТС 010/2011…);
- the category tree (about 175 nodes under 23 roots) with Russian and English
  names, an OKPD2 code where one is known for certain (left empty otherwise —
  a wrong code is worse than none), the processes a category needs, synonyms,
  the unit and a reference unit price in roubles;
- ``CATEGORY_BOM`` — what an assembly category is made of (a category-level
  bill of materials, e.g. a gearbox needs a housing, gears, bearings…);
- ``PRODUCT_TEMPLATES`` — ten end products (combine, tractor, seed drill…) with
  their top-level bill of materials, typical annual volume and price.

Every leaf category needs at least one process: "holds every process the
category needs" must never be true of an empty list.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from coopgraph.graph.errors import BomCycleError
from coopgraph.graph.models import BomLine, Category, Certification, Process

__all__ = [
    "CATEGORY_BOM",
    "CERTIFICATIONS",
    "PROCESSES",
    "PRODUCT_TEMPLATES",
    "ProductTemplate",
    "bom_lines",
    "categories",
    "certifications",
    "expand",
    "leaf_codes",
    "processes",
]

_SOURCE = "coopgraph taxonomy"

# code, name_ru, name_en
PROCESSES: tuple[tuple[str, str, str], ...] = (
    ("casting", "Литьё", "Casting"),
    ("forging", "Ковка и горячая штамповка", "Forging"),
    ("stamping", "Холодная листовая штамповка", "Stamping"),
    ("sheet_cutting", "Резка листа (лазер, плазма)", "Sheet cutting (laser, plasma)"),
    ("bending", "Гибка", "Bending"),
    ("machining", "Механическая обработка", "Machining"),
    ("turning", "Токарная обработка", "Turning"),
    ("milling", "Фрезерная обработка", "Milling"),
    ("drilling", "Сверление", "Drilling"),
    ("grinding", "Шлифование", "Grinding"),
    ("honing", "Хонингование", "Honing"),
    ("lapping", "Притирка и доводка", "Lapping"),
    ("gear_cutting", "Зубообработка", "Gear cutting"),
    ("welding", "Сварка", "Welding"),
    ("brazing", "Пайка", "Brazing"),
    ("heat_treatment", "Термообработка", "Heat treatment"),
    ("painting", "Окраска жидкими ЛКМ", "Painting"),
    ("powder_coating", "Порошковое окрашивание", "Powder coating"),
    ("galvanising", "Цинкование", "Galvanising"),
    ("assembly", "Сборка", "Assembly"),
    ("balancing", "Балансировка", "Balancing"),
    ("hydraulic_testing", "Гидравлические испытания", "Hydraulic testing"),
    ("hose_crimping", "Опрессовка рукавов", "Hose crimping"),
    ("harness_assembly", "Сборка жгутов проводов", "Wiring harness assembly"),
    ("winding", "Намотка электрических машин", "Coil winding"),
    ("electronics_assembly", "Монтаж электроники (SMT)", "Electronics assembly (SMT)"),
    ("rf_calibration", "Калибровка радиоаппаратуры", "RF calibration"),
    ("plastic_moulding", "Литьё пластмасс под давлением", "Plastic injection moulding"),
    ("precision_moulding", "Прецизионное литьё пластмасс и керамики",
     "Precision plastic and ceramic moulding"),
    ("rotomoulding", "Ротационное формование", "Rotational moulding"),
    ("extrusion", "Экструзия", "Extrusion"),
    ("rubber_moulding", "Формование и вулканизация резины", "Rubber moulding"),
    ("tyre_building", "Сборка и вулканизация шин", "Tyre building"),
    ("rolling", "Прокатка", "Rolling"),
    ("wire_drawing", "Волочение проволоки", "Wire drawing"),
    ("cold_heading", "Холодная высадка", "Cold heading"),
    ("spring_coiling", "Навивка пружин", "Spring coiling"),
    ("glass_tempering", "Закалка стекла", "Glass tempering"),
    ("upholstery", "Обивка и пошив", "Upholstery"),
    ("bearing_assembly", "Сборка подшипников", "Bearing assembly"),
    ("paint_production", "Производство ЛКМ", "Paint production"),
)

# code, name
CERTIFICATIONS: tuple[tuple[str, str], ...] = (
    ("ISO9001", "ISO 9001 (ГОСТ Р ИСО 9001) — система менеджмента качества"),
    ("IATF16949", "IATF 16949 — качество в автомобильной промышленности"),
    ("ISO14001", "ISO 14001 — экологический менеджмент"),
    ("ISO45001", "ISO 45001 — охрана здоровья и безопасность труда"),
    ("ISO3834", "ISO 3834 — качество сварки плавлением"),
    ("GOST_R", "Добровольная сертификация ГОСТ Р"),
    ("TR_TS_010", "ТР ТС 010/2011 «О безопасности машин и оборудования»"),
    ("TR_TS_031", "ТР ТС 031/2012 «О безопасности сельскохозяйственных и лесохозяйственных"
                  " тракторов и прицепов к ним»"),
    ("TR_TS_004", "ТР ТС 004/2011 «О безопасности низковольтного оборудования»"),
    ("TR_TS_020", "ТР ТС 020/2011 «Электромагнитная совместимость технических средств»"),
    ("PP719", "Заключение о подтверждении производства в РФ (ПП РФ № 719)"),
)

# code, parent, name_ru, name_en, okpd2, processes (space-separated),
# synonyms ("|"-separated, RU and EN), unit, reference unit price (RUB)
_Row = tuple[str, str, str, str, str, str, str, str, float]
_CATEGORY_ROWS: tuple[_Row, ...] = (
    # --- castings
    ("cast", "", "Отливки", "Castings", "", "", "литьё|литые детали|castings", "", 0),
    ("cast.grey_iron", "cast", "Отливки из серого чугуна", "Grey iron castings", "24.51",
     "casting", "чугунное литьё|литьё СЧ|grey cast iron|gray iron casting", "kg", 180),
    ("cast.ductile_iron", "cast", "Отливки из высокопрочного чугуна", "Ductile iron castings",
     "24.51", "casting heat_treatment", "литьё ВЧ|чугун с шаровидным графитом|ductile iron|SG iron",
     "kg", 230),
    ("cast.steel", "cast", "Отливки стальные", "Steel castings", "24.52",
     "casting heat_treatment", "стальное литьё|steel casting", "kg", 260),
    ("cast.aluminium", "cast", "Отливки алюминиевые", "Aluminium castings", "24.53",
     "casting", "литьё алюминия|алюминиевое литьё под давлением|aluminium die casting", "kg", 450),
    ("cast.gearbox_housing", "cast", "Корпуса коробок передач литые", "Gearbox housings (cast)",
     "24.51", "casting milling drilling", "картер КПП|корпус трансмиссии|gearbox casing",
     "pcs", 38000),
    ("cast.axle_housing", "cast", "Корпуса мостов литые", "Axle housings (cast)", "24.51",
     "casting milling drilling", "балка моста|корпус ведущего моста|axle casing", "pcs", 45000),
    ("cast.counterweight", "cast", "Противовесы и балластные грузы литые",
     "Cast counterweights and ballast", "24.51", "casting painting",
     "балластный груз|противовес трактора|ballast weight|tractor weight", "pcs", 9000),
    ("cast.wheel_hub", "cast", "Ступицы колёс литые", "Cast wheel hubs", "24.51",
     "casting turning drilling", "ступица|wheel hub", "pcs", 7500),
    # --- forgings
    ("forge", "", "Поковки и горячая штамповка", "Forgings", "25.50", "",
     "кованые детали|forged parts", "", 0),
    ("forge.crankshaft", "forge", "Поковки коленчатых валов", "Crankshaft forgings", "25.50",
     "forging heat_treatment", "коленвал поковка|crankshaft forging", "pcs", 22000),
    ("forge.conrod", "forge", "Поковки шатунов", "Connecting rod forgings", "25.50",
     "forging heat_treatment", "шатун|connecting rod|conrod", "pcs", 2500),
    ("forge.gear_blank", "forge", "Заготовки шестерён кованые", "Forged gear blanks", "25.50",
     "forging heat_treatment", "заготовка шестерни|gear blank", "pcs", 1400),
    ("forge.shaft_blank", "forge", "Поковки валов", "Shaft forgings", "25.50", "forging",
     "заготовка вала|shaft forging", "pcs", 2200),
    ("forge.clevis", "forge", "Серьги, вилки и крюки кованые", "Forged clevises and hooks",
     "25.50", "forging machining", "серьга|вилка прицепная|clevis|hitch hook", "pcs", 1800),
    # --- stamped and sheet parts
    ("stamp", "", "Штампованные и листовые детали", "Stamped and sheet-metal parts", "25.50",
     "", "штамповка|sheet metal parts", "", 0),
    ("stamp.brackets", "stamp", "Кронштейны штампованные", "Stamped brackets", "25.50",
     "sheet_cutting stamping bending", "кронштейн|bracket", "pcs", 350),
    ("stamp.panels", "stamp", "Панели и облицовка", "Body panels and cladding", "",
     "stamping bending painting", "капот|крылья|облицовка|hood|fender|cladding", "pcs", 4200),
    ("stamp.sheet_parts", "stamp", "Детали листовые (резка, гибка)",
     "Laser-cut and bent sheet parts", "", "sheet_cutting bending",
     "лазерная резка|гибка листа|laser cutting|sheet metal fabrication", "kg", 210),
    # --- machined parts
    ("mach", "", "Детали механообработки", "Machined parts", "25.62", "",
     "механообработка|machined components", "", 0),
    ("mach.shafts", "mach", "Валы", "Shafts", "25.62", "turning milling grinding heat_treatment",
     "механообработка валов|вал|shaft machining", "pcs", 3800),
    ("mach.bushings", "mach", "Втулки", "Bushings", "25.62", "turning",
     "втулка|bushing|sleeve", "pcs", 220),
    ("mach.flanges", "mach", "Фланцы", "Flanges", "25.62", "turning drilling",
     "фланец|flange", "pcs", 600),
    ("mach.pins", "mach", "Пальцы и оси", "Pins and axles", "25.62", "turning heat_treatment",
     "палец|ось|pin|pivot", "pcs", 180),
    ("mach.housings", "mach", "Корпусные детали", "Machined housings", "25.62",
     "milling drilling machining", "корпус|обработка корпусов|housing machining", "pcs", 5200),
    # --- hydraulics
    ("hyd", "", "Гидравлика", "Hydraulics", "28.12", "", "гидравлическое оборудование|hydraulics",
     "", 0),
    ("hyd.cylinder", "hyd", "Гидроцилиндры", "Hydraulic cylinders", "28.12",
     "turning welding honing assembly hydraulic_testing painting",
     "гидроцилиндр|цилиндр гидравлический|hydraulic cylinder|hydraulic ram", "pcs", 14000),
    ("hyd.pump", "hyd", "Насосы гидравлические шестерённые", "Hydraulic gear pumps", "28.12",
     "machining grinding assembly hydraulic_testing", "гидронасос|НШ|hydraulic pump|gear pump",
     "pcs", 16000),
    ("hyd.motor", "hyd", "Гидромоторы", "Hydraulic motors", "28.12",
     "machining grinding assembly hydraulic_testing", "гидромотор|hydraulic motor", "pcs", 28000),
    ("hyd.valve_block", "hyd", "Гидрораспределители", "Directional control valves", "28.12",
     "machining assembly hydraulic_testing", "распределитель|гидроблок|control valve|valve block",
     "pcs", 32000),
    ("hyd.steering_unit", "hyd", "Насосы-дозаторы рулевого управления",
     "Hydrostatic steering units", "28.12",
     "machining grinding lapping assembly hydraulic_testing",
     "гидроруль|насос-дозатор|orbitrol|steering unit", "pcs", 35000),
    ("hyd.hose", "hyd", "Рукава высокого давления", "High-pressure hose assemblies", "22.19",
     "hose_crimping hydraulic_testing", "РВД|рукав высокого давления|hydraulic hose", "pcs", 1300),
    ("hyd.fittings", "hyd", "Фитинги и соединения гидравлические", "Hydraulic fittings", "",
     "turning drilling galvanising", "фитинг|штуцер|hydraulic fitting|adapter", "pcs", 150),
    ("hyd.tank", "hyd", "Баки гидравлические", "Hydraulic tanks", "",
     "sheet_cutting welding painting", "гидробак|бак масляный|hydraulic reservoir", "pcs", 6000),
    ("hyd.filter", "hyd", "Фильтры гидравлические", "Hydraulic filters", "",
     "stamping assembly", "гидрофильтр|hydraulic filter", "pcs", 1500),
    # --- transmission
    ("trans", "", "Трансмиссия и приводы", "Transmission and drives", "28.15", "",
     "трансмиссия|привод|power transmission", "", 0),
    ("trans.gearbox", "trans", "Коробки передач", "Gearboxes", "28.15", "machining assembly",
     "КПП|коробка переключения передач|gearbox|transmission", "pcs", 420000),
    ("trans.reducer", "trans", "Редукторы", "Reduction gearboxes", "28.15",
     "machining gear_cutting assembly", "редуктор угловой|планетарный редуктор|gear reducer",
     "pcs", 36000),
    ("trans.axle", "trans", "Мосты ведущие", "Drive axles", "", "machining assembly",
     "ведущий мост|drive axle", "pcs", 260000),
    ("trans.gear_spur", "trans", "Шестерни цилиндрические", "Spur and helical gears", "28.15",
     "turning gear_cutting heat_treatment grinding", "шестерня|зубчатое колесо|spur gear",
     "pcs", 2600),
    ("trans.gear_bevel", "trans", "Шестерни конические", "Bevel gears", "28.15",
     "turning gear_cutting heat_treatment lapping",
     "коническая пара|главная пара|bevel gear|crown wheel and pinion", "pcs", 4200),
    ("trans.shaft_splined", "trans", "Валы шлицевые", "Splined shafts", "28.15",
     "turning gear_cutting heat_treatment grinding", "шлицевой вал|splined shaft", "pcs", 4800),
    ("trans.sprocket", "trans", "Звёздочки", "Sprockets", "28.15", "gear_cutting heat_treatment",
     "звездочка цепная|sprocket", "pcs", 900),
    ("trans.chain", "trans", "Цепи приводные роликовые", "Roller chains", "28.15",
     "stamping heat_treatment assembly", "цепь ПР|приводная цепь|roller chain", "m", 650),
    ("trans.vbelt", "trans", "Ремни приводные клиновые", "V-belts", "22.19", "rubber_moulding",
     "клиновой ремень|ремень вариатора|v-belt|drive belt", "pcs", 900),
    ("trans.pulley", "trans", "Шкивы", "Pulleys", "28.15", "turning drilling balancing",
     "шкив|pulley|sheave", "pcs", 1600),
    ("trans.clutch", "trans", "Муфты и сцепления", "Clutches and couplings", "28.15",
     "machining assembly", "сцепление|муфта|clutch|coupling", "pcs", 12000),
    ("trans.cardan", "trans", "Валы карданные", "PTO and cardan shafts", "28.15",
     "welding machining balancing assembly", "карданный вал|вал ВОМ|PTO shaft|driveline",
     "pcs", 9500),
    # --- bearings
    ("bear", "", "Подшипники", "Bearings", "28.15", "", "подшипник|bearings", "", 0),
    ("bear.ball", "bear", "Подшипники шариковые", "Ball bearings", "28.15",
     "grinding heat_treatment bearing_assembly", "шарикоподшипник|ball bearing", "pcs", 350),
    ("bear.tapered", "bear", "Подшипники роликовые конические", "Tapered roller bearings",
     "28.15", "grinding heat_treatment bearing_assembly",
     "конический подшипник|tapered roller bearing", "pcs", 900),
    ("bear.housed", "bear", "Подшипниковые узлы в корпусе", "Housed bearing units", "28.15",
     "casting machining assembly", "подшипниковый узел|корпусной подшипник|pillow block",
     "pcs", 1500),
    ("bear.plain", "bear", "Подшипники скольжения и вкладыши", "Plain bearings and shells",
     "28.15", "turning", "вкладыш|подшипник скольжения|plain bearing|bearing shell", "pcs", 300),
    # --- fasteners
    ("fast", "", "Крепёжные изделия", "Fasteners", "25.94", "", "крепёж|метизы|fasteners", "", 0),
    ("fast.bolts", "fast", "Болты и винты", "Bolts and screws", "25.94",
     "cold_heading heat_treatment galvanising", "болт|винт|bolt|screw", "pcs", 12),
    ("fast.nuts", "fast", "Гайки", "Nuts", "25.94", "cold_heading galvanising", "гайка|nut",
     "pcs", 5),
    ("fast.washers", "fast", "Шайбы", "Washers", "25.94", "stamping galvanising",
     "шайба|гровер|washer", "pcs", 2),
    ("fast.pins", "fast", "Шплинты и штифты", "Cotter pins and dowels", "25.94", "cold_heading",
     "шплинт|штифт|cotter pin|dowel", "pcs", 3),
    ("fast.wheel_bolts", "fast", "Болты колёсные", "Wheel bolts", "25.94",
     "cold_heading heat_treatment", "колёсный болт|wheel bolt|wheel stud", "pcs", 60),
    # --- welded frames and structures
    ("weld", "", "Сварные рамы и конструкции", "Welded frames and structures", "28.30.9", "",
     "сварные конструкции|металлоконструкции|welded structures", "", 0),
    ("weld.main_frame", "weld", "Рамы сварные", "Welded main frames", "28.30.9",
     "sheet_cutting bending welding painting", "рама|сварная рама|chassis frame|main frame",
     "pcs", 85000),
    ("weld.drawbar", "weld", "Сницы и прицепные устройства", "Drawbars and hitches", "28.30.9",
     "sheet_cutting welding machining painting", "сница|дышло|drawbar|hitch", "pcs", 12000),
    ("weld.toolbar", "weld", "Брусья и балки навесные", "Toolbars and beams", "28.30.9",
     "sheet_cutting welding painting", "брус|балка|toolbar", "pcs", 18000),
    ("weld.hopper", "weld", "Бункеры сварные", "Welded hoppers and grain tanks", "28.30.9",
     "sheet_cutting bending welding painting", "бункер|зерновой бункер|hopper|grain tank",
     "pcs", 26000),
    ("weld.header_frame", "weld", "Каркасы жаток", "Header frames", "28.30.9",
     "sheet_cutting welding painting", "корпус жатки|header frame", "pcs", 120000),
    ("weld.boom", "weld", "Штанги опрыскивателей", "Sprayer booms", "28.30.9",
     "sheet_cutting welding galvanising", "штанга опрыскивателя|sprayer boom", "pcs", 95000),
    ("weld.platform", "weld", "Площадки, лестницы, ограждения", "Platforms, ladders, guards", "",
     "welding galvanising", "лестница|ограждение|ladder|guard rail", "pcs", 7000),
    # --- cabins
    ("cab", "", "Кабины и их компоненты", "Cabins and cabin parts", "", "",
     "кабина|cab components", "", 0),
    ("cab.complete", "cab", "Кабины в сборе", "Complete cabins", "28.30.9",
     "welding painting assembly upholstery", "кабина трактора|кабина комбайна|operator cab",
     "pcs", 480000),
    ("cab.frame", "cab", "Каркасы кабин (ROPS)", "Cab frames (ROPS)", "28.30.9",
     "bending welding painting", "каркас безопасности|ROPS|cab frame", "pcs", 95000),
    ("cab.glass", "cab", "Стёкла кабин закалённые", "Tempered cab glass", "23.12",
     "glass_tempering", "закалённое стекло|стекло кабины|tempered glass|safety glass", "pcs", 6500),
    ("cab.seat", "cab", "Сиденья оператора", "Operator seats", "", "upholstery welding assembly",
     "кресло оператора|сиденье водителя|operator seat", "pcs", 38000),
    ("cab.hvac", "cab", "Климатические установки кабин", "Cab HVAC units", "28.25",
     "brazing assembly", "кондиционер кабины|отопитель|cab air conditioning|HVAC", "pcs", 62000),
    ("cab.interior", "cab", "Панели интерьера кабин", "Cab interior trim", "22.29",
     "plastic_moulding", "обшивка кабины|interior trim", "set", 18000),
    # --- electrics and wiring
    ("elec", "", "Электрооборудование", "Electrics and wiring", "", "",
     "электрика|electrical equipment", "", 0),
    ("elec.harness", "elec", "Жгуты проводов", "Wiring harnesses", "29.31", "harness_assembly",
     "жгут проводов|электропроводка|wiring harness|cable loom", "set", 24000),
    ("elec.cable", "elec", "Провода и кабели", "Wires and cables", "27.32",
     "wire_drawing extrusion", "провод автомобильный|кабель|wire|cable", "m", 45),
    ("elec.connectors", "elec", "Разъёмы электрические", "Electrical connectors", "27.33",
     "plastic_moulding stamping assembly", "разъём|колодка|connector", "pcs", 160),
    ("elec.lighting", "elec", "Фары и фонари", "Lamps and lights", "27.40",
     "plastic_moulding electronics_assembly assembly", "фара|светильник|work light|headlamp",
     "pcs", 3500),
    ("elec.battery", "elec", "Аккумуляторные батареи", "Starter batteries", "27.20",
     "assembly", "АКБ|аккумулятор|battery", "pcs", 14000),
    ("elec.starter", "elec", "Стартеры", "Starter motors", "29.31", "winding machining assembly",
     "стартер|starter motor", "pcs", 17000),
    ("elec.alternator", "elec", "Генераторы", "Alternators", "29.31",
     "winding machining assembly", "генератор|alternator", "pcs", 19000),
    ("elec.motor", "elec", "Электродвигатели", "Electric motors", "27.11",
     "winding machining assembly", "электромотор|асинхронный двигатель|electric motor", "pcs",
     16000),
    ("elec.switches", "elec", "Выключатели и переключатели", "Switches", "27.33",
     "plastic_moulding assembly", "выключатель|переключатель|switch", "pcs", 450),
    ("elec.relay_box", "elec", "Блоки предохранителей и реле", "Fuse and relay boxes", "29.31",
     "electronics_assembly assembly", "блок предохранителей|реле|fuse box|relay", "pcs", 3800),
    # --- electronics and sensors
    ("elx", "", "Электроника и датчики", "Electronics and sensors", "", "",
     "электроника|electronics", "", 0),
    ("elx.ecu", "elx", "Электронные блоки управления", "Electronic control units", "",
     "electronics_assembly assembly", "ЭБУ|контроллер|ECU|controller", "pcs", 42000),
    ("elx.sensor_speed", "elx", "Датчики скорости и частоты вращения", "Speed sensors", "26.51",
     "electronics_assembly plastic_moulding", "датчик оборотов|датчик скорости|speed sensor",
     "pcs", 2400),
    ("elx.sensor_pressure", "elx", "Датчики давления", "Pressure sensors", "26.51",
     "electronics_assembly machining", "датчик давления|pressure transducer", "pcs", 5200),
    ("elx.seed_sensor", "elx", "Датчики высева", "Seed flow sensors", "26.51",
     "electronics_assembly plastic_moulding", "датчик высева|seed sensor", "pcs", 3100),
    ("elx.terminal", "elx", "Бортовые терминалы и дисплеи", "Onboard terminals and displays", "",
     "electronics_assembly assembly", "бортовой компьютер|терминал|display|ISOBUS terminal",
     "pcs", 85000),
    ("elx.gnss", "elx", "Приёмники ГНСС для автопилота", "GNSS receivers for guidance", "26.51",
     "electronics_assembly rf_calibration", "ГЛОНАСС|GPS|автопилот|GNSS receiver", "pcs", 240000),
    ("elx.pcb", "elx", "Печатные платы смонтированные", "Assembled printed circuit boards",
     "26.12", "electronics_assembly", "печатная плата|PCB|PCBA", "pcs", 2600),
    # --- engines
    ("eng", "", "Двигатели и системы двигателя", "Engines and engine systems", "28.11", "",
     "двигатель|engine", "", 0),
    ("eng.diesel", "eng", "Двигатели дизельные", "Diesel engines", "28.11", "machining assembly",
     "дизель|ДВС|diesel engine", "pcs", 1200000),
    ("eng.turbo", "eng", "Турбокомпрессоры", "Turbochargers", "",
     "machining balancing assembly", "турбина|турбокомпрессор|turbocharger", "pcs", 65000),
    ("eng.radiator", "eng", "Радиаторы охлаждения", "Cooling radiators", "",
     "brazing assembly", "радиатор|radiator|cooler", "pcs", 42000),
    ("eng.fuel_injection", "eng", "Топливная аппаратура", "Fuel injection equipment", "",
     "machining grinding lapping assembly hydraulic_testing",
     "ТНВД|форсунка топливная|fuel injection pump|injector", "pcs", 78000),
    ("eng.air_filter", "eng", "Фильтры воздушные", "Air filters", "28.29", "stamping assembly",
     "воздушный фильтр|air filter", "pcs", 2100),
    ("eng.oil_filter", "eng", "Фильтры масляные и топливные", "Oil and fuel filters", "28.29",
     "stamping assembly", "масляный фильтр|топливный фильтр|oil filter|fuel filter", "pcs", 700),
    ("eng.exhaust", "eng", "Глушители и выпускные системы", "Exhaust systems", "",
     "bending welding", "глушитель|выхлопная система|muffler|exhaust", "pcs", 6800),
    ("eng.fuel_tank", "eng", "Топливные баки", "Fuel tanks", "", "sheet_cutting welding painting",
     "бак топливный|fuel tank", "pcs", 14000),
    # --- tyres and wheels
    ("tyre", "", "Шины и колёса", "Tyres and wheels", "22.11", "", "шины|колёса|tyres|wheels",
     "", 0),
    ("tyre.drive", "tyre", "Шины для тракторов и комбайнов", "Tractor and combine tyres",
     "22.11", "tyre_building", "шина ведущего колеса|tractor tyre|agricultural tyre", "pcs",
     68000),
    ("tyre.implement", "tyre", "Шины для прицепной техники", "Implement tyres", "22.11",
     "tyre_building", "шина для сельхозорудий|implement tyre", "pcs", 9000),
    ("tyre.tube", "tyre", "Камеры шинные", "Inner tubes", "22.11", "rubber_moulding",
     "камера|inner tube", "pcs", 2500),
    ("tyre.rim", "tyre", "Диски колёсные", "Wheel rims", "",
     "stamping rolling welding painting", "колёсный диск|обод|wheel rim", "pcs", 12000),
    # --- rubber and plastics
    ("rp", "", "Резинотехнические и пластмассовые изделия", "Rubber and plastic parts", "", "",
     "РТИ|пластик|rubber and plastics", "", 0),
    ("rp.seals", "rp", "Манжеты и сальники", "Lip seals", "22.19", "rubber_moulding",
     "манжета|сальник|oil seal|lip seal", "pcs", 120),
    ("rp.orings", "rp", "Кольца уплотнительные", "O-rings", "22.19", "rubber_moulding",
     "уплотнительное кольцо|o-ring", "pcs", 15),
    ("rp.rubber_parts", "rp", "Резинотехнические изделия формовые", "Moulded rubber parts",
     "22.19", "rubber_moulding", "РТИ|резиновая деталь|rubber moulding", "pcs", 250),
    ("rp.plastic_parts", "rp", "Детали пластмассовые литьевые", "Injection-moulded plastic parts",
     "22.29", "plastic_moulding", "литьё пластмасс|пластиковая деталь|plastic part", "pcs", 180),
    ("rp.plastic_tank", "rp", "Ёмкости пластиковые", "Rotomoulded plastic tanks", "22.29",
     "rotomoulding", "бак пластиковый|полиэтиленовая ёмкость|poly tank", "pcs", 28000),
    ("rp.conveyor_belt", "rp", "Ленты транспортёрные прорезиненные", "Rubber conveyor belts",
     "22.19", "rubber_moulding", "транспортёрная лента|conveyor belt", "m", 4200),
    # --- paint and coatings
    ("paint", "", "Лакокрасочные материалы и покрытия", "Paints and coatings", "20.30", "",
     "ЛКМ|краска|paint|coating", "", 0),
    ("paint.primer", "paint", "Грунтовки", "Primers", "20.30", "paint_production",
     "грунт|primer", "kg", 420),
    ("paint.enamel", "paint", "Эмали", "Enamels", "20.30", "paint_production",
     "эмаль|краска|enamel|topcoat", "kg", 520),
    ("paint.powder", "paint", "Краски порошковые", "Powder paints", "20.30", "paint_production",
     "порошковая краска|powder paint", "kg", 610),
    ("paint.galv_service", "paint", "Горячее цинкование (услуга)", "Hot-dip galvanising (service)",
     "25.61", "galvanising", "цинкование|hot-dip galvanizing", "kg", 45),
    ("paint.powder_service", "paint", "Порошковое окрашивание (услуга)",
     "Powder coating (service)", "25.61", "powder_coating",
     "порошковая покраска|powder coating service", "m2", 350),
    # --- steel rolled products
    ("steel", "", "Металлопрокат", "Steel rolled products", "24.10", "",
     "прокат|металл|steel products", "", 0),
    ("steel.sheet_hot", "steel", "Прокат листовой горячекатаный", "Hot-rolled sheet", "24.10",
     "rolling", "горячекатаный лист|hot rolled sheet", "t", 78000),
    ("steel.sheet_cold", "steel", "Прокат листовой холоднокатаный", "Cold-rolled sheet", "24.10",
     "rolling", "холоднокатаный лист|cold rolled sheet", "t", 92000),
    ("steel.plate", "steel", "Прокат толстолистовой", "Steel plate", "24.10", "rolling",
     "толстый лист|steel plate", "t", 85000),
    ("steel.wear", "steel", "Сталь износостойкая и борсодержащая", "Wear-resistant and boron steel",
     "24.10", "rolling heat_treatment", "борсодержащая сталь|износостойкий лист|boron steel|"
     "wear plate", "t", 210000),
    ("steel.bar", "steel", "Прокат сортовой", "Steel bar", "24.10", "rolling",
     "круг стальной|пруток|round bar|steel bar", "t", 82000),
    ("steel.tube", "steel", "Трубы стальные", "Steel tubes", "24.20", "rolling welding",
     "труба профильная|труба стальная|steel tube|hollow section", "t", 98000),
    ("steel.profile", "steel", "Профили гнутые", "Cold-formed sections", "24.33",
     "rolling bending", "гнутый профиль|швеллер гнутый|cold formed section", "t", 95000),
    ("steel.wire", "steel", "Проволока стальная", "Steel wire", "24.34", "wire_drawing",
     "проволока|steel wire", "t", 110000),
    ("steel.spring", "steel", "Сталь рессорно-пружинная", "Spring steel", "24.10",
     "rolling heat_treatment", "пружинная сталь|65Г|spring steel", "t", 120000),
    # --- tillage tools and wearing parts
    ("till", "", "Рабочие органы почвообработки", "Tillage tools and wearing parts", "28.30.9",
     "", "рабочие органы|быстроизнашивающиеся детали|wearing parts", "", 0),
    ("till.share", "till", "Лемеха плужные", "Ploughshares", "28.30.9",
     "sheet_cutting forging heat_treatment", "лемех|ploughshare|plowshare", "pcs", 2900),
    ("till.mouldboard", "till", "Отвалы плужные", "Mouldboards", "28.30.9",
     "sheet_cutting bending heat_treatment", "отвал|mouldboard|moldboard", "pcs", 7800),
    ("till.landside", "till", "Полевые доски", "Landsides", "28.30.9",
     "sheet_cutting heat_treatment", "полевая доска|landside", "pcs", 1200),
    ("till.point", "till", "Долота и наральники", "Plough points and chisels", "28.30.9",
     "forging heat_treatment", "долото|наральник|plough point|chisel", "pcs", 1100),
    ("till.sweep", "till", "Лапы культиваторные", "Cultivator sweeps", "28.30.9",
     "sheet_cutting stamping heat_treatment", "лапа стрельчатая|культиваторная лапа|sweep",
     "pcs", 480),
    ("till.spring_tine", "till", "Стойки пружинные", "Spring tines", "28.30.9",
     "bending heat_treatment", "S-образная стойка|пружинная стойка|spring tine", "pcs", 1400),
    ("till.disc", "till", "Диски сферические", "Harrow discs", "28.30.9",
     "sheet_cutting stamping heat_treatment", "диск бороны|сферический диск|harrow disc",
     "pcs", 3600),
    ("till.roller", "till", "Катки прикатывающие", "Packer rollers", "28.30.9",
     "sheet_cutting welding", "каток|кольчато-шпоровый каток|packer roller", "pcs", 16000),
    ("till.harrow_tooth", "till", "Зубья борон", "Harrow tines", "28.30.9",
     "forging heat_treatment", "зуб бороны|harrow tooth", "pcs", 90),
    # --- seed metering
    ("seed", "", "Узлы высева", "Seeding components", "28.30.9", "",
     "посевные узлы|seeding parts", "", 0),
    ("seed.meter", "seed", "Высевающие аппараты", "Seed meters", "28.30.9",
     "plastic_moulding machining assembly", "высевающий аппарат|дозатор|seed meter", "pcs", 9500),
    ("seed.opener", "seed", "Сошники дисковые", "Disc openers", "28.30.9",
     "stamping heat_treatment assembly", "сошник|disc opener|coulter", "pcs", 7200),
    ("seed.press_wheel", "seed", "Колёса прикатывающие", "Press wheels", "28.30.9",
     "rubber_moulding assembly", "прикатывающее колесо|press wheel", "pcs", 3100),
    ("seed.tube", "seed", "Семяпроводы", "Seed tubes", "28.30.9", "extrusion",
     "семяпровод|seed tube|seed hose", "pcs", 450),
    ("seed.fan", "seed", "Вентиляторы пневмосистем", "Pneumatic fans", "28.30.9",
     "casting balancing assembly", "вентилятор|fan|blower", "pcs", 28000),
    ("seed.distributor", "seed", "Распределительные головки", "Distribution heads", "28.30.9",
     "plastic_moulding machining", "распределитель семян|distribution head", "pcs", 12000),
    # --- sprayer parts
    ("spray", "", "Узлы опрыскивателей", "Sprayer components", "28.30.9", "",
     "опрыскиватель|sprayer parts", "", 0),
    ("spray.nozzle", "spray", "Распылители", "Spray nozzles", "28.30.9", "precision_moulding",
     "форсунка|распылитель|spray nozzle|tip", "pcs", 650),
    ("spray.nozzle_body", "spray", "Корпуса форсунок", "Nozzle bodies", "28.30.9",
     "plastic_moulding", "корпус форсунки|nozzle body", "pcs", 350),
    ("spray.pump", "spray", "Насосы мембранно-поршневые", "Diaphragm pumps", "28.13",
     "casting machining assembly", "мембранный насос|diaphragm pump", "pcs", 85000),
    ("spray.control", "spray", "Регуляторы давления и клапаны", "Sprayer control valves", "28.14",
     "machining electronics_assembly assembly", "регулятор|секционный клапан|control valve",
     "pcs", 24000),
    ("spray.filter", "spray", "Фильтры линейные", "Line filters", "28.30.9", "plastic_moulding",
     "фильтр напорный|line filter", "pcs", 1900),
    # --- harvester parts
    ("harv", "", "Узлы уборочных машин", "Harvester components", "28.30.9", "",
     "комбайновые узлы|harvester parts", "", 0),
    ("harv.header", "harv", "Жатки в сборе", "Headers", "28.30.9", "welding assembly",
     "жатка|header|cutting platform", "pcs", 1400000),
    ("harv.drum", "harv", "Барабаны молотильные", "Threshing drums", "28.30.9",
     "welding machining balancing", "молотильный барабан|threshing drum|rotor", "pcs", 180000),
    ("harv.concave", "harv", "Подбарабанья", "Concaves", "28.30.9", "welding machining",
     "подбарабанье|concave", "pcs", 65000),
    ("harv.rasp_bar", "harv", "Бичи молотильные", "Rasp bars", "28.30.9",
     "forging machining heat_treatment", "бич|rasp bar", "pcs", 2800),
    ("harv.straw_walker", "harv", "Клавиши соломотряса", "Straw walkers", "28.30.9",
     "sheet_cutting bending welding", "соломотряс|straw walker", "pcs", 14000),
    ("harv.sieve", "harv", "Решёта", "Sieves", "28.30.9", "sheet_cutting stamping welding",
     "решето|sieve|chaffer", "pcs", 18000),
    ("harv.auger", "harv", "Шнеки", "Augers", "28.30.9", "sheet_cutting bending welding",
     "шнек|auger|screw conveyor", "pcs", 15000),
    ("harv.knife", "harv", "Сегменты ножей режущих аппаратов", "Knife sections", "28.30.9",
     "stamping heat_treatment grinding", "сегмент ножа|knife section", "pcs", 95),
    ("harv.reel", "harv", "Мотовила", "Reels", "28.30.9", "welding assembly",
     "мотовило|reel", "pcs", 75000),
    ("harv.feeder_chain", "harv", "Транспортёры наклонной камеры", "Feeder house chains",
     "28.30.9", "stamping welding assembly", "транспортёр наклонной камеры|feeder chain", "set",
     48000),
    # --- baler and mower parts
    ("hay", "", "Узлы кормоуборочных машин", "Hay and forage components", "28.30.9", "",
     "кормоуборочные узлы|hay tools", "", 0),
    ("hay.knotter", "hay", "Узловязатели", "Knotters", "28.30.9", "casting machining assembly",
     "узловязатель|knotter", "pcs", 42000),
    ("hay.pickup", "hay", "Подборщики", "Pick-ups", "28.30.9", "welding assembly",
     "подборщик|pick-up", "pcs", 120000),
    ("hay.plunger", "hay", "Поршни прессовальных камер", "Baler plungers", "28.30.9",
     "welding machining", "поршень пресса|plunger", "pcs", 36000),
    ("hay.mower_disc", "hay", "Диски косилочные", "Mower discs", "28.30.9",
     "stamping heat_treatment", "косилочный диск|mower disc", "pcs", 5200),
    ("hay.mower_blade", "hay", "Ножи ротационных косилок", "Mower blades", "28.30.9",
     "stamping heat_treatment", "нож косилки|mower blade", "pcs", 45),
    ("hay.cutterbar", "hay", "Брусья режущие косилок", "Mower cutterbars", "28.30.9",
     "machining gear_cutting assembly", "режущий брус|cutterbar", "pcs", 190000),
    ("hay.twine", "hay", "Шпагат и сетка для прессования", "Baler twine and net wrap", "13.94",
     "extrusion", "шпагат|сетка|twine|net wrap", "kg", 260),
    # --- springs
    ("spring", "", "Пружины", "Springs", "25.93", "", "пружина|springs", "", 0),
    ("spring.compression", "spring", "Пружины сжатия", "Compression springs", "25.93",
     "spring_coiling heat_treatment", "пружина сжатия|compression spring", "pcs", 90),
    ("spring.tension", "spring", "Пружины растяжения", "Tension springs", "25.93",
     "spring_coiling heat_treatment", "пружина растяжения|tension spring", "pcs", 70),
)

# What an assembly category is made of: {assembly: ((component, qty per assembly), ...)}.
CATEGORY_BOM: dict[str, tuple[tuple[str, float], ...]] = {
    "trans.gearbox": (
        ("cast.gearbox_housing", 1), ("trans.gear_spur", 12), ("trans.shaft_splined", 4),
        ("bear.ball", 10), ("bear.tapered", 4), ("rp.seals", 8), ("fast.bolts", 40),
        ("trans.clutch", 1),
    ),
    "trans.reducer": (
        ("cast.grey_iron", 18), ("trans.gear_bevel", 2), ("mach.shafts", 2), ("bear.ball", 4),
        ("rp.seals", 2), ("fast.bolts", 8),
    ),
    "trans.axle": (
        ("cast.axle_housing", 1), ("trans.gear_bevel", 2), ("trans.gear_spur", 4),
        ("mach.shafts", 2), ("bear.tapered", 6), ("cast.wheel_hub", 2), ("rp.seals", 6),
        ("fast.bolts", 30),
    ),
    "trans.cardan": (("steel.tube", 0.01), ("forge.clevis", 4), ("bear.ball", 4)),
    "trans.clutch": (("spring.compression", 9), ("stamp.sheet_parts", 6)),
    "hyd.cylinder": (
        ("steel.tube", 0.012), ("mach.shafts", 1), ("rp.seals", 4), ("rp.orings", 6),
        ("hyd.fittings", 2),
    ),
    "hyd.pump": (("cast.aluminium", 6), ("trans.gear_spur", 2), ("bear.plain", 4),
                 ("rp.seals", 2)),
    "hyd.valve_block": (("cast.grey_iron", 14), ("rp.orings", 10), ("spring.compression", 6)),
    "hyd.hose": (("hyd.fittings", 2),),
    "cab.complete": (
        ("cab.frame", 1), ("cab.glass", 6), ("cab.seat", 1), ("cab.hvac", 1),
        ("cab.interior", 1), ("elec.harness", 1), ("stamp.panels", 4), ("fast.bolts", 120),
        ("elec.lighting", 6),
    ),
    "cab.frame": (("steel.tube", 0.08), ("steel.profile", 0.05), ("paint.enamel", 6)),
    "eng.diesel": (
        ("forge.crankshaft", 1), ("forge.conrod", 6), ("cast.grey_iron", 280), ("eng.turbo", 1),
        ("eng.fuel_injection", 1), ("eng.radiator", 1), ("eng.air_filter", 1),
        ("eng.oil_filter", 2), ("bear.plain", 14), ("fast.bolts", 160), ("elec.starter", 1),
        ("elec.alternator", 1),
    ),
    "weld.main_frame": (("steel.plate", 0.4), ("steel.profile", 0.3), ("paint.enamel", 8),
                        ("paint.primer", 6)),
    "weld.hopper": (("steel.sheet_hot", 0.25), ("paint.enamel", 5)),
    "weld.boom": (("steel.tube", 0.15), ("steel.profile", 0.1), ("paint.galv_service", 180)),
    "weld.header_frame": (("steel.profile", 0.6), ("steel.sheet_hot", 0.3), ("paint.enamel", 10)),
    "weld.toolbar": (("steel.tube", 0.12), ("paint.enamel", 3)),
    "weld.drawbar": (("steel.plate", 0.08), ("forge.clevis", 1)),
    "harv.header": (
        ("weld.header_frame", 1), ("harv.auger", 1), ("harv.reel", 1), ("harv.knife", 120),
        ("trans.reducer", 2), ("trans.chain", 12), ("bear.housed", 8), ("hyd.cylinder", 2),
    ),
    "harv.drum": (("steel.plate", 0.3), ("harv.rasp_bar", 8), ("mach.shafts", 1),
                  ("bear.housed", 2)),
    "seed.meter": (("rp.plastic_parts", 12), ("mach.shafts", 1), ("bear.ball", 2),
                   ("trans.sprocket", 1), ("spring.compression", 2)),
    "seed.opener": (("steel.wear", 0.006), ("bear.ball", 2), ("mach.flanges", 1)),
    "hay.knotter": (("cast.ductile_iron", 6), ("trans.gear_bevel", 1), ("spring.tension", 2),
                    ("mach.shafts", 1)),
    "hay.pickup": (("steel.tube", 0.05), ("steel.wire", 0.02), ("bear.housed", 2),
                   ("trans.chain", 2)),
    "hay.cutterbar": (("hay.mower_disc", 8), ("hay.mower_blade", 16), ("trans.gear_spur", 16),
                      ("bear.ball", 16), ("steel.plate", 0.1)),
    "spray.pump": (("cast.aluminium", 8), ("rp.seals", 6), ("mach.shafts", 1), ("bear.ball", 2)),
    "elec.harness": (("elec.cable", 180), ("elec.connectors", 40)),
    "elx.terminal": (("elx.pcb", 2), ("rp.plastic_parts", 4)),
    "elx.ecu": (("elx.pcb", 1), ("elec.connectors", 2)),
}


@dataclass(frozen=True)
class ProductTemplate:
    """A kind of end product with its top-level bill of materials."""

    kind: str
    name_ru: str
    name_en: str
    okpd2: str
    annual_volume: int
    unit_price: float
    lines: tuple[tuple[str, float], ...]


PRODUCT_TEMPLATES: tuple[ProductTemplate, ...] = (
    ProductTemplate("combine", "Зерноуборочный комбайн", "Combine harvester", "28.30.5", 400,
                    18_500_000, (
        ("eng.diesel", 1), ("harv.header", 1), ("harv.drum", 1), ("harv.concave", 1),
        ("harv.straw_walker", 5), ("harv.sieve", 4), ("harv.feeder_chain", 1),
        ("weld.main_frame", 1), ("weld.hopper", 1), ("cab.complete", 1), ("trans.gearbox", 1),
        ("hyd.pump", 2), ("hyd.cylinder", 6), ("hyd.valve_block", 1), ("hyd.hose", 40),
        ("hyd.steering_unit", 1), ("tyre.drive", 2), ("tyre.implement", 2), ("tyre.rim", 4),
        ("elec.harness", 2), ("elx.terminal", 1), ("elx.ecu", 2), ("elx.gnss", 1),
        ("elx.sensor_speed", 8), ("trans.chain", 20), ("trans.vbelt", 14), ("trans.pulley", 18),
        ("bear.housed", 40), ("bear.ball", 60), ("fast.bolts", 1800), ("fast.nuts", 1500),
        ("fast.washers", 2200), ("paint.enamel", 45), ("stamp.panels", 14),
        ("elec.battery", 2), ("eng.fuel_tank", 1), ("elec.lighting", 14),
    )),
    ProductTemplate("tractor", "Трактор колёсный", "Wheeled tractor", "28.30.2", 1200, 11_000_000, (
        ("eng.diesel", 1), ("trans.gearbox", 1), ("trans.axle", 2), ("cab.complete", 1),
        ("weld.main_frame", 1), ("cast.counterweight", 10), ("hyd.pump", 1),
        ("hyd.valve_block", 2), ("hyd.cylinder", 3), ("hyd.steering_unit", 1), ("hyd.hose", 30),
        ("hyd.tank", 1), ("tyre.drive", 4), ("tyre.rim", 4), ("fast.wheel_bolts", 40),
        ("elec.harness", 1), ("elx.ecu", 1), ("elx.terminal", 1), ("elx.gnss", 1),
        ("elx.sensor_pressure", 4), ("elec.battery", 2), ("trans.cardan", 1),
        ("stamp.panels", 10), ("eng.fuel_tank", 2), ("paint.enamel", 35), ("fast.bolts", 1400),
        ("fast.nuts", 1100), ("elec.lighting", 12), ("eng.exhaust", 1),
    )),
    ProductTemplate("seed_drill", "Сеялка зерновая пневматическая", "Pneumatic seed drill",
                    "28.30.33", 900, 4_200_000, (
        ("weld.main_frame", 1), ("weld.hopper", 1), ("seed.meter", 2), ("seed.fan", 1),
        ("seed.distributor", 2), ("seed.opener", 48), ("seed.press_wheel", 48),
        ("seed.tube", 48), ("elx.seed_sensor", 48), ("elx.terminal", 1), ("elec.harness", 1),
        ("hyd.cylinder", 4), ("hyd.hose", 16), ("tyre.implement", 4), ("tyre.rim", 4),
        ("spring.compression", 48), ("fast.bolts", 900), ("paint.enamel", 20),
        ("bear.housed", 10), ("weld.drawbar", 1),
    )),
    ProductTemplate("plough", "Плуг оборотный", "Reversible plough", "28.30.31", 1500, 1_900_000, (
        ("weld.main_frame", 1), ("weld.toolbar", 1), ("till.share", 10), ("till.mouldboard", 10),
        ("till.landside", 10), ("till.point", 10), ("hyd.cylinder", 2), ("hyd.hose", 6),
        ("forge.clevis", 4), ("mach.pins", 20), ("tyre.implement", 1), ("tyre.rim", 1),
        ("fast.bolts", 400), ("paint.enamel", 12),
    )),
    ProductTemplate("cultivator", "Культиватор паровой", "Field cultivator", "28.30.32", 1300,
                    1_400_000, (
        ("weld.toolbar", 3), ("weld.main_frame", 1), ("till.sweep", 40), ("till.spring_tine", 40),
        ("till.roller", 4), ("hyd.cylinder", 3), ("hyd.hose", 10), ("tyre.implement", 4),
        ("tyre.rim", 4), ("fast.bolts", 600), ("paint.enamel", 14),
    )),
    ProductTemplate("disc_harrow", "Борона дисковая", "Disc harrow", "28.30.32", 1000, 2_300_000, (
        ("weld.main_frame", 1), ("weld.toolbar", 2), ("till.disc", 48), ("bear.housed", 48),
        ("till.roller", 2), ("hyd.cylinder", 2), ("hyd.hose", 6), ("tyre.implement", 4),
        ("tyre.rim", 4), ("rp.rubber_parts", 48), ("fast.bolts", 700), ("paint.enamel", 12),
        ("weld.drawbar", 1),
    )),
    ProductTemplate("sprayer", "Опрыскиватель прицепной", "Trailed sprayer", "28.30.6", 600,
                    3_600_000, (
        ("weld.main_frame", 1), ("weld.boom", 1), ("rp.plastic_tank", 1), ("spray.pump", 1),
        ("spray.control", 1), ("spray.nozzle", 48), ("spray.nozzle_body", 48),
        ("spray.filter", 4), ("hyd.cylinder", 5), ("hyd.hose", 20), ("elec.harness", 1),
        ("elx.terminal", 1), ("elx.gnss", 1), ("elx.sensor_pressure", 2), ("tyre.implement", 2),
        ("tyre.rim", 2), ("trans.cardan", 1), ("fast.bolts", 500), ("paint.powder", 18),
    )),
    ProductTemplate("baler", "Пресс-подборщик тюковый", "Square baler", "28.30.5", 500,
                    2_700_000, (
        ("weld.main_frame", 1), ("hay.pickup", 1), ("hay.knotter", 4), ("hay.plunger", 1),
        ("trans.reducer", 1), ("trans.cardan", 1), ("trans.chain", 14), ("trans.sprocket", 12),
        ("bear.housed", 16), ("bear.ball", 20), ("tyre.implement", 2), ("tyre.rim", 2),
        ("elec.harness", 1), ("fast.bolts", 650), ("paint.enamel", 14),
    )),
    ProductTemplate("mower", "Косилка роторная", "Disc mower", "28.30.5", 800, 750_000, (
        ("weld.main_frame", 1), ("hay.cutterbar", 1), ("trans.reducer", 1), ("trans.cardan", 1),
        ("trans.vbelt", 4), ("hyd.cylinder", 1), ("spring.tension", 4), ("stamp.panels", 3),
        ("fast.bolts", 250), ("paint.enamel", 6),
    )),
    ProductTemplate("grain_cleaner", "Машина зерноочистительная", "Grain cleaner", "28.30", 300,
                    1_600_000, (
        ("weld.main_frame", 1), ("harv.sieve", 6), ("seed.fan", 2), ("elec.motor", 3),
        ("trans.vbelt", 6), ("trans.pulley", 6), ("bear.housed", 12), ("harv.auger", 2),
        ("elec.harness", 1), ("elec.switches", 6), ("stamp.sheet_parts", 180),
        ("fast.bolts", 450), ("paint.powder", 10),
    )),
)


def _split(text: str, sep: str) -> list[str]:
    return [part for part in text.split(sep) if part]


def categories(source: str = _SOURCE) -> list[Category]:
    """The category tree as :class:`~graph.models.Category` records (parents first)."""
    return [
        Category(
            code=code, parent=parent or None, name_ru=ru, name_en=en, okpd2=okpd2 or None,
            processes=_split(procs, " "), synonyms=_split(syn, "|"), unit=unit or None,
            unit_price=price or None, source=source,
        )
        for code, parent, ru, en, okpd2, procs, syn, unit, price in _CATEGORY_ROWS
    ]


def processes(source: str = _SOURCE) -> list[Process]:
    """The manufacturing processes as :class:`~graph.models.Process` records."""
    return [Process(code=c, name_ru=ru, name_en=en, source=source) for c, ru, en in PROCESSES]


def certifications(source: str = _SOURCE) -> list[Certification]:
    """The certification schemes as :class:`~graph.models.Certification` records."""
    return [Certification(code=c, name=n, source=source) for c, n in CERTIFICATIONS]


def bom_lines(source: str = _SOURCE) -> list[BomLine]:
    """The category-level bill of materials (``parent_kind='category'``)."""
    return [
        BomLine(parent=parent, child=child, qty=qty, parent_kind="category", source=source)
        for parent, lines in CATEGORY_BOM.items()
        for child, qty in lines
    ]


def leaf_codes() -> list[str]:
    """Codes of the categories that have no children (the ones suppliers declare)."""
    parents = {row[1] for row in _CATEGORY_ROWS if row[1]}
    return [row[0] for row in _CATEGORY_ROWS if row[0] not in parents]


def expand(
    lines: Iterable[tuple[str, float]],
    recipes: Mapping[str, Iterable[tuple[str, float]]] = CATEGORY_BOM,
    *,
    multiplier: float = 1.0,
) -> dict[str, float]:
    """Total quantity of every category reached from ``lines`` through ``recipes``.

    Each assembly counts itself and everything it is made of (so a combine's
    gearbox adds the gearbox, its housing, gears, bearings…).

    Examples
    --------
    >>> expand([("hyd.hose", 10)])["hyd.fittings"]
    20.0
    """
    total: dict[str, float] = {}
    stack = [(code, float(qty) * multiplier, 0) for code, qty in lines]
    while stack:
        code, qty, depth = stack.pop()
        if depth > 20:  # the built-in recipes are acyclic; guard against user data
            raise BomCycleError([code])
        total[code] = total.get(code, 0.0) + qty
        for child, child_qty in recipes.get(code, ()):
            stack.append((child, qty * float(child_qty), depth + 1))
    return total
