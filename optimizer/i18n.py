"""The outputs in French or English: one catalogue of messages, translated at the edge.

The library computes in English (reasons, statuses, weekdays, column names are
English values inside); the files, the summary's texts, the console lines and
the maps are put into the reader's language only when written, through the
one catalogue of this module:

- :data:`COLUMNS`: each column name of an output file and its French name;
- :data:`VALUES`: each value of a coded column (``status``, ``weekday``,
  ``change``, ...) and its French word;
- :data:`MESSAGES`: each sentence the tool writes, English and French. A
  message may hold placeholders (``{longest}``, ``{nearest}``): the English
  text is matched as a pattern and the French one filled with what the
  placeholders held (numbers in the French way, words put into French when
  the catalogue has them, ids as they are).

English is the identity: ``lang="en"`` writes what the library computed.
:func:`delocalise_table` reads a French file back into English names and
values (``--previous``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any, Literal

import pandas as pd

from optimizer.errors import InputError

Lang = Literal["en", "fr"]
LANGS: tuple[Lang, ...] = ("en", "fr")

#: The weekdays, as the library names them, and in French.
WEEKDAYS_FR: dict[str, str] = {
    "mon": "lundi",
    "tue": "mardi",
    "wed": "mercredi",
    "thu": "jeudi",
    "fri": "vendredi",
}

#: Every column name of an output file, and its French name.
COLUMNS: dict[str, str] = {
    "agent_id": "identifiant_agent",
    "status": "statut",
    "telecentre_id": "identifiant_télécentre",
    "minutes_to_telecentre": "minutes_vers_télécentre",
    "km_to_telecentre": "km_vers_télécentre",
    "workplace_id": "identifiant_lieu_de_travail",
    "minutes_to_head_office": "minutes_vers_siège",
    "km_to_head_office": "km_vers_siège",
    "minutes_saved_per_day": "minutes_gagnées_par_jour",
    "km_saved_per_day": "km_gagnés_par_jour",
    "telework_days": "jours_télétravail",
    "snap_m": "accès_route_m",
    "location": "localisation",
    "location_precision_m": "précision_localisation_m",
    "reason": "motif",
    "tie_won_by": "égalité_gagnée_par",
    "hours_saved_per_week": "heures_gagnées_par_semaine",
    "km_saved_per_week": "km_gagnés_par_semaine",
    "kg_co2_saved_per_week": "kg_co2_évités_par_semaine",
    "eur_saved_per_week": "euros_économisés_par_semaine",
    "hours_saved_per_year": "heures_gagnées_par_an",
    "km_saved_per_year": "km_gagnés_par_an",
    "kg_co2_saved_per_year": "kg_co2_évités_par_an",
    "eur_saved_per_year": "euros_économisés_par_an",
    "explanation": "explication",
    "plan_holds": "plan_tient",
    "scenarios_same": "scénarios_identiques",
    "scenarios_twin_swap": "scénarios_échange_jumeau",
    "saving_week_low": "gain_semaine_bas",
    "saving_week_high": "gain_semaine_haut",
    # assignment.gpkg's communes layer
    "insee": "code_insee",
    "minutes_saved_per_week": "minutes_gagnées_par_semaine",
    "placed": "placés",
    "share_placed": "part_placée",
    "unreachable": "injoignables",
    "point": "point",
    # telecentres.csv
    "name": "nom",
    "capacity": "capacité",
    "assigned": "affectés",
    "desk_days_offered": "postes_jours_offerts",
    "desk_days_used": "postes_jours_utilisés",
    "utilisation": "taux_occupation",
    "communes": "communes",
    "note": "remarque",
    "open": "ouvert",
    **{f"desks_{d}": f"postes_{fr}" for d, fr in WEEKDAYS_FR.items()},
    **{f"used_{d}": f"utilisés_{fr}" for d, fr in WEEKDAYS_FR.items()},
    # travel_times.csv
    "destination_id": "identifiant_destination",
    "minutes_to": "minutes_aller",
    "km_to": "km_aller",
    "minutes_back": "minutes_retour",
    "km_back": "km_retour",
    # ranking.csv
    "rank": "rang",
    "best_telecentre_id": "meilleur_télécentre",
    "minutes_to_best_telecentre": "minutes_vers_meilleur_télécentre",
    # schedule.csv
    "weekday": "jour",
    # changes.csv
    "change": "changement",
    "previous_telecentre_id": "télécentre_précédent",
    "previous_weekdays": "jours_précédents",
    "weekdays": "jours",
    "why": "pourquoi",
    # frontier.csv
    "max_minutes": "minutes_max",
    "longest_drive": "trajet_le_plus_long",
    "objective": "objectif",
}

#: Each coded value of an output column, and its French word.
VALUES: dict[str, str] = {
    "assigned": "affecté",
    "not_assigned": "non affecté",
    **WEEKDAYS_FR,
    "coordinates": "coordonnées",
    "commune": "commune",
    "yes": "oui",
    "no": "non",
    "moved": "déplacé",
    "added": "nouvellement placé",
    "removed": "plus placé",
    "joined": "arrivé",
    "left": "parti",
    "other_weekdays": "autres jours",
}

#: The columns whose cells are coded values (:data:`VALUES`), ``|``-joined lists of them
#: for ``weekdays`` and ``previous_weekdays``.
VALUE_COLUMNS = (
    "status",
    "location",
    "open",
    "weekday",
    "change",
    "weekdays",
    "previous_weekdays",
    "plan_holds",
)
#: The columns whose cells are sentences (:data:`MESSAGES`).
TEXT_COLUMNS = ("reason", "explanation", "note", "why")

#: Every sentence the tool writes, English (a pattern when it holds ``{placeholders}``) and
#: French. Reasons first (``allocation.csv``), then the other files, then the console.
MESSAGES: dict[str, str] = {
    # ------------------------------------------------ reasons (optimizer.model.explain)
    "unreachable: no road route to the head office": (
        "injoignable : aucun itinéraire routier vers le siège"
    ),
    "unreachable: no road route to any telecentre": (
        "injoignable : aucun itinéraire routier vers un télécentre"
    ),
    "no saving: no telecentre is nearer than the head office": (
        "aucun gain : aucun télécentre n'est plus proche que le siège"
    ),
    "saving too small: below the minimum saving per day": (
        "gain trop faible : en dessous du gain minimal par jour"
    ),
    "too far: every telecentre that saves time is beyond the longest acceptable drive": (
        "trop loin : tout télécentre qui fait gagner du temps est au-delà du plus long trajet "
        "accepté"
    ),
    "worse off: the telecentres that save time are further than the head office (one way)": (
        "perdant : les télécentres qui font gagner du temps sont plus loin que le siège "
        "(aller simple)"
    ),
    "forbidden: the telecentres that would save time are excluded for this agent": (
        "interdit : les télécentres qui feraient gagner du temps sont exclus pour cet agent"
    ),
    "capacity full: the telecentres that would save time are full": (
        "capacité atteinte : les télécentres qui feraient gagner du temps sont pleins"
    ),
    "not selected: the limit on the number of agents was reached": (
        "non retenu : la limite du nombre d'agents est atteinte"
    ),
    "closed on its days: the telecentres that would save time are not open on enough of the "
    "days it can telework": (
        "fermé ses jours : les télécentres qui feraient gagner du temps ne sont pas ouverts "
        "assez de jours parmi ceux où il peut télétravailler"
    ),
    "not selected: the limit on the number of agents went to longer commutes "
    "(--select-by commute)": (
        "non retenu : la limite du nombre d'agents est allée aux trajets plus longs "
        "(--select-by commute)"
    ),
    "not selected: the limit on the number of agents went first to agents who must be assigned "
    "(--select-by commute)": (
        "non retenu : la limite du nombre d'agents est allée d'abord aux agents à affecter "
        "obligatoirement (--select-by commute)"
    ),
    "not opened: the telecentres that would save it time are not opened ({rule}); "
    "the nearest is {nearest}": (
        "non ouvert : les télécentres qui lui feraient gagner du temps ne sont pas ouverts "
        "({rule}) ; le plus proche est {nearest}"
    ),
    "capacity full: the opened telecentres that would save time are full on its days; "
    "the others are not opened ({rule})": (
        "capacité atteinte : les télécentres ouverts qui feraient gagner du temps sont pleins "
        "ses jours ; les autres ne sont pas ouverts ({rule})"
    ),
    "capacity full: selected among the {select} longest commutes (--select-by commute), but "
    "the telecentres that would save it time are full on its days": (
        "capacité atteinte : retenu parmi les {select} trajets les plus longs "
        "(--select-by commute), mais les télécentres qui lui feraient gagner du temps sont "
        "pleins ses jours"
    ),
    "left out by --minimax: to keep the longest drive at {longest} min; every telecentre that "
    "would save it time is further": (
        "écarté par --minimax : pour garder le plus long trajet à {longest} min ; tout "
        "télécentre qui lui ferait gagner du temps est plus loin"
    ),
    "left out by --minimax: to keep the longest drive at {longest} min; the telecentres that "
    "would save it time within that drive are full on its days, the others are further": (
        "écarté par --minimax : pour garder le plus long trajet à {longest} min ; les "
        "télécentres qui lui feraient gagner du temps dans ce trajet sont pleins ses jours, "
        "les autres sont plus loin"
    ),
    # the same, shared (optimizer.report.shared_reason: the drive is not named)
    "left out by --minimax: to keep the longest drive as short as it is; every telecentre "
    "that would save it time is further": (
        "écarté par --minimax : pour garder le plus long trajet aussi court qu'il est ; tout "
        "télécentre qui lui ferait gagner du temps est plus loin"
    ),
    "left out by --minimax: to keep the longest drive as short as it is; the telecentres that "
    "would save it time within that drive are full on its days, the others are further": (
        "écarté par --minimax : pour garder le plus long trajet aussi court qu'il est ; les "
        "télécentres qui lui feraient gagner du temps dans ce trajet sont pleins ses jours, "
        "les autres sont plus loin"
    ),
    "left out by --minimax: the fairest plan places as many agents as the plan that saves "
    "the most ({count}), no more": (
        "écarté par --minimax : le plan le plus équitable place autant d'agents que le plan "
        "qui fait gagner le plus ({count}), pas plus"
    ),
    "not placed: the solver's time limit ended before a plan placing it was found "
    "(the plan is not proven optimal)": (
        "non placé : le temps limite du solveur a expiré avant qu'un plan le plaçant soit "
        "trouvé (le plan n'est pas prouvé optimal)"
    ),
    "cannot telework: its impossible_days leave fewer weekdays than its telework_days": (
        "ne peut pas télétravailler : ses jours impossibles (impossible_days) laissent moins "
        "de jours que ses jours de télétravail (telework_days)"
    ),
    "tie lost to {winner}: an equal (it could take the same desks on the same weekdays "
    "for the same saving); decided by {by}": (
        "égalité perdue face à {winner} : un égal (il pourrait prendre les mêmes postes les "
        "mêmes jours pour le même gain) ; départagé par {by}"
    ),
    "higher priority": "la priorité plus élevée",
    "longer drive to the head office": "le trajet plus long vers le siège",
    "the draw": "le tirage au sort",
    "the draw (seed {seed})": "le tirage au sort (graine {seed})",
    # travel (optimizer.travel)
    "home further than the snapping limit from any road": (
        "domicile plus loin de toute route que la limite de raccordement"
    ),
    "destination further than the snapping limit from any road": (
        "destination plus loin de toute route que la limite de raccordement"
    ),
    "no road route between home and destination": (
        "aucun itinéraire routier entre le domicile et la destination"
    ),
    "drive to the destination longer than the limit": (
        "trajet vers la destination plus long que la limite"
    ),
    # ------------------------------------------------ explanations (allocation.csv)
    "{telecentre} saves {minutes} min a day (round trip) against the head office": (
        "{telecentre} fait gagner {minutes} min par jour (aller-retour) par rapport au siège"
    ),
    "{telecentre} saves {minutes} min a day (round trip) against the head office on {days}": (
        "{telecentre} fait gagner {minutes} min par jour (aller-retour) par rapport au siège "
        "({days})"
    ),
    "{telecentre} saves {minutes} min a day (round trip) against its workplace": (
        "{telecentre} fait gagner {minutes} min par jour (aller-retour) par rapport à son "
        "lieu de travail"
    ),
    "{telecentre} saves {minutes} min a day (round trip) against its workplace on {days}": (
        "{telecentre} fait gagner {minutes} min par jour (aller-retour) par rapport à son "
        "lieu de travail ({days})"
    ),
    "next best {telecentre} would save {minutes} min": (
        "ensuite {telecentre} ferait gagner {minutes} min"
    ),
    "no other telecentre is open to this agent": "aucun autre télécentre n'est ouvert à cet agent",
    "not assigned ({why})": "non affecté ({why})",
    "the telecentre saving the most would be {telecentre} ({minutes} min a day)": (
        "le télécentre qui ferait gagner le plus serait {telecentre} ({minutes} min par jour)"
    ),
    "tie lost to an equal": "égalité perdue face à un égal",
    "tie lost to {winner}": "égalité perdue face à {winner}",
    # ------------------------------------------------ telecentres.csv
    "not opened: the plan does better with the telecentres it opens": (
        "non ouvert : le plan fait mieux avec les télécentres qu'il ouvre"
    ),
    "offers no desk: capacity 0 or closed every weekday": (
        "n'offre aucun poste : capacité 0 ou fermé tous les jours"
    ),
    "saves no agent time: it stands at the head office's point ({metres} m away), so driving "
    "there is driving to the head office": (
        "ne fait gagner de temps à aucun agent : il est au point du siège (à {metres} m), y "
        "aller revient à aller au siège"
    ),
    "saves no agent time: the head office is nearer for every agent": (
        "ne fait gagner de temps à aucun agent : le siège est plus proche pour chacun"
    ),
    "no agent saves the minimum saving ({minutes} min a day) here": (
        "aucun agent n'y atteint le gain minimal ({minutes} min par jour)"
    ),
    "the agents it would save time save more elsewhere, or were not chosen": (
        "les agents à qui il ferait gagner du temps gagnent plus ailleurs, ou n'ont pas été retenus"
    ),
    "other communes": "autres communes",
    "unknown commune": "commune inconnue",
    # ------------------------------------------------ changes.csv (optimizer.replan)
    "no longer in the agents file": "n'est plus dans le fichier des agents",
    "telecentre {telecentre} is no longer in the telecentres file (closed)": (
        "le télécentre {telecentre} n'est plus dans le fichier des télécentres (fermé)"
    ),
    "not kept by the new plan": "non gardé par le nouveau plan",
    "a place became worth giving (changed rules, capacities or roster)": (
        "une place vaut désormais d'être donnée (règles, capacités ou agents changés)"
    ),
    "the plan gains more than the move penalty ({penalty} min a week)": (
        "le plan gagne plus que la pénalité de déplacement ({penalty} min par semaine)"
    ),
    "new volunteer": "nouveau volontaire",
    "new volunteer, {reason}": "nouveau volontaire, {reason}",
    "telework days a week changed from {before} to {after}": (
        "jours de télétravail par semaine passés de {before} à {after}"
    ),
    "the plan gains more than the day-change penalty ({penalty} min a week a weekday): "
    "other agents, desks or rules": (
        "le plan gagne plus que la pénalité de changement de jour ({penalty} min par semaine "
        "et par jour) : autres agents, postes ou règles"
    ),
    "desks of {telecentre} cut from {before} to {after} a day": (
        "postes de {telecentre} réduits de {before} à {after} par jour"
    ),
    "desks of {telecentre} cut ({cuts})": "postes de {telecentre} réduits ({cuts})",
    "mon {before} to {after}": "lundi {before} à {after}",
    "tue {before} to {after}": "mardi {before} à {after}",
    "wed {before} to {after}": "mercredi {before} à {after}",
    "thu {before} to {after}": "jeudi {before} à {after}",
    "fri {before} to {after}": "vendredi {before} à {after}",
    "desks of {telecentre} cut to {desks} on {day}, fewer than the {agents} agents there that "
    "day in the previous plan": (
        "postes de {telecentre} réduits à {desks} le {day}, moins que les {agents} agents qui "
        "y étaient ce jour-là dans le plan précédent"
    ),
    "desks of {telecentre} now {desks}, for {agents} agents there before (their weekdays "
    "unknown: no schedule.csv next to the previous allocation)": (
        "postes de {telecentre} désormais {desks}, pour {agents} agents qui y étaient avant "
        "(leurs jours inconnus : pas de schedule.csv à côté de l'allocation précédente)"
    ),
    # ------------------------------------------------ summary.json and console
    "round-trip minutes saved per week (preference bonus included)": (
        "minutes gagnées par semaine, aller-retour (bonus de préférence inclus)"
    ),
    "round-trip km saved per week (preference bonus included)": (
        "km gagnés par semaine, aller-retour (bonus de préférence inclus)"
    ),
    "minutes driven per week by all agents (preference bonus deducted)": (
        "minutes de route par semaine de tous les agents (bonus de préférence déduit)"
    ),
    "shared desks by weekday": "postes partagés par jour",
    "desks shared by weekday": "postes partagés par jour",
    "dedicated desks": "postes attitrés",
    "among agents the objective cannot tell apart: the higher priority first, then the "
    "longer drive to the head office, then a draw from the seed": (
        "entre agents que l'objectif ne départage pas : la priorité la plus élevée d'abord, "
        "puis le trajet le plus long vers le siège, puis un tirage au sort selon la graine"
    ),
    "APPROXIMATE road network: not real roads (communes linked to their neighbours, "
    "lengths from a detour factor). Use a real OpenStreetMap network for decisions.": (
        "Réseau routier APPROXIMATIF : pas de vraies routes (communes reliées à leurs "
        "voisines, longueurs par un facteur de détour). Utilisez un vrai réseau "
        "OpenStreetMap pour décider."
    ),
    "SYNTHETIC roster: the agents are the embedded demo, made up (no real person). "
    "Give --agents with the real volunteers.": (
        "Liste d'agents SYNTHÉTIQUE : les agents sont ceux de la démonstration intégrée, "
        "inventés (aucune personne réelle). Donnez --agents avec les vrais volontaires."
    ),
    "ILLUSTRATIVE capacities: the embedded telecentres' desk counts are assumptions "
    "(real counts unknown). Give --telecentres with the real desks.": (
        "Capacités INDICATIVES : les nombres de postes des télécentres intégrés sont des "
        "hypothèses (vrais nombres inconnus). Donnez --telecentres avec les vrais postes."
    ),
    "{agents} off the road network (home more than {km} km from its roads: outside its "
    "area?) cannot be placed: {ids}. Check their coordinates, or give a --network that "
    "covers them.": (
        "{agents} hors du réseau routier (domicile à plus de {km} km de ses routes : hors de "
        "sa zone ?) ne peuvent être placés : {ids}. Vérifiez leurs coordonnées, ou donnez un "
        "--network qui les couvre."
    ),
    "{ids} and {more} more": "{ids} et {more} autres",
    "{count} agents": "{count} agents",
    "{count} agent": "{count} agent",
    "{count} assigned agents": "{count} agents affectés",
    "{count} assigned agent": "{count} agent affecté",
    "{count} drive-time scenarios": "{count} scénarios de temps de trajet",
    "{count} drive-time scenario": "{count} scénario de temps de trajet",
    "optimal": "optimal",
    "best found in {seconds} s": "meilleur trouvé en {seconds} s",
    "best found in {seconds} s, at most {gap} from the best possible": (
        "meilleur trouvé en {seconds} s, à au plus {gap} du meilleur possible"
    ),
    "{agents}: {assigned} assigned, {left} not assigned; {used} of {offered} desk-days used "
    "({policy}); {minutes} minutes and {km} km saved a week (round trips); {quality}.": (
        "{agents} : {assigned} affectés, {left} non affectés ; {used} postes-jours utilisés "
        "sur {offered} ({policy}) ; {minutes} minutes et {km} km gagnés par semaine "
        "(allers-retours) ; {quality}."
    ),
    "Ties: {agents} left out for an equal placed (same saving, weekdays and rules), decided "
    "by priority for {priority}, by the longer drive to the head office for {commute}, by "
    "the draw (seed {seed}) for {draw}: see 'reason' in allocation.csv.": (
        "Égalités : {agents} écarté(s) au profit d'un égal placé (même gain, mêmes jours et "
        "règles), départagés par la priorité pour {priority}, par le trajet plus long vers le "
        "siège pour {commute}, par le tirage au sort (graine {seed}) pour {draw} : voir "
        "'motif' dans allocation.csv."
    ),
    # the result line of a national run (optimizer.cli._national), "; "-separated parts
    "{count} agents in {groups} groups: {placed} assigned": (
        "{count} agents en {groups} groupes : {placed} affectés"
    ),
    "{count} agent in {groups} groups: {placed} assigned": (
        "{count} agent en {groups} groupes : {placed} affectés"
    ),
    "{minutes} minutes saved a week": "{minutes} minutes gagnées par semaine",
    "optimal (every pair that could improve it certified, or ruled out by its bounds).": (
        "optimal (toute paire qui pourrait l'améliorer certifiée, ou exclue par ses bornes)."
    ),
    "optimal on the certified pairs only: {pairs} (agent, site) pair(s) that may improve the "
    "plan and {commutes} agent(s)' commutes not certified within the {km} km border buffers "
    "(a wider --border-km certifies more: see summary.json).": (
        "optimal sur les seules paires certifiées : {pairs} paire(s) (agent, site) qui "
        "pourraient améliorer le plan et {commutes} trajet(s) domicile-travail non certifiés "
        "dans les bordures de {km} km (un --border-km plus large en certifie davantage : voir "
        "summary.json)."
    ),
    "optimal on the certified pairs only: {pairs} (agent, site) pair(s) that may improve the "
    "plan and {commutes} agent(s)' commutes not certified within the {km} km border buffers "
    "nor in their regions with margins up to {margin} km (a wider --border-km certifies "
    "more: see summary.json).": (
        "optimal sur les seules paires certifiées : {pairs} paire(s) (agent, site) qui "
        "pourraient améliorer le plan et {commutes} trajet(s) domicile-travail non certifiés "
        "dans les bordures de {km} km ni dans leurs régions avec des marges jusqu'à {margin} km "
        "(un --border-km plus large en certifie davantage : voir summary.json)."
    ),
    "best plan found, within {gap} of the bound (not proven).": (
        "meilleur plan trouvé, à au plus {gap} de la borne (non prouvé)."
    ),
    "best plan found, within {gap} of the bound (not proven)": (
        "meilleur plan trouvé, à au plus {gap} de la borne (non prouvé)"
    ),
    "{pairs} (agent, site) pair(s) that may improve the plan and {commutes} agent(s)' commutes "
    "not certified within the {km} km border buffers (a wider --border-km certifies more: see "
    "summary.json).": (
        "{pairs} paire(s) (agent, site) qui pourraient améliorer le plan et {commutes} trajet(s) "
        "domicile-travail non certifiés dans les bordures de {km} km (un --border-km plus large "
        "en certifie davantage : voir summary.json)."
    ),
    "{pairs} (agent, site) pair(s) that may improve the plan and {commutes} agent(s)' commutes "
    "not certified within the {km} km border buffers nor in their regions with margins up to "
    "{margin} km (a wider --border-km certifies more: see summary.json).": (
        "{pairs} paire(s) (agent, site) qui pourraient améliorer le plan et {commutes} trajet(s) "
        "domicile-travail non certifiés dans les bordures de {km} km ni dans leurs régions avec "
        "des marges jusqu'à {margin} km (un --border-km plus large en certifie davantage : voir "
        "summary.json)."
    ),
    # a plan on a national network folder (optimizer.national.travel, optimizer.pipeline)
    "drive time not certified within the border buffers (a wider --border-km certifies more)": (
        "temps de trajet non certifié dans les bordures (un --border-km plus large en certifie "
        "davantage)"
    ),
    "commute not certified within the border buffers (a wider --border-km certifies more)": (
        "trajet domicile-travail non certifié dans les bordures (un --border-km plus large en "
        "certifie davantage)"
    ),
    "{count} agent(s)' commutes are not certified: their savings are unknown, so no bound "
    "holds (a wider --border-km certifies more)": (
        "{count} trajet(s) domicile-travail non certifiés : leurs gains sont inconnus, aucune "
        "borne ne tient (un --border-km plus large en certifie davantage)"
    ),
    "pairs not certified may be eligible, and {rule} gives no bound from their lower bounds": (
        "des paires non certifiées peuvent être éligibles, et {rule} ne donne pas de borne à "
        "partir de leurs bornes inférieures"
    ),
    "pairs not certified may improve the plan by up to the gap (a wider --border-km certifies "
    "more)": (
        "des paires non certifiées peuvent améliorer le plan d'au plus l'écart (un --border-km "
        "plus large en certifie davantage)"
    ),
    "pairs not certified may place more agents or shorten the longest drive (a wider "
    "--border-km certifies more)": (
        "des paires non certifiées peuvent placer plus d'agents ou raccourcir le trajet le plus "
        "long (un --border-km plus large en certifie davantage)"
    ),
    "Exact on the merged network: every pair that could improve the plan is certified, or "
    "bounded without improving it.": (
        "Exact sur le réseau fusionné : toute paire qui pourrait améliorer le plan est "
        "certifiée, ou bornée sans l'améliorer."
    ),
    "Not proven exact on the merged network: {why}.": (
        "Exactitude non prouvée sur le réseau fusionné : {why}."
    ),
    "Not proven exact on the merged network: at most {gap} {unit} more ({relative}) by the "
    "bound; {why}.": (
        "Exactitude non prouvée sur le réseau fusionné : au plus {gap} {unit} de plus "
        "({relative}) selon la borne ; {why}."
    ),
    "minutes a week": "minutes par semaine",
    "the solver stopped at its time limit before proving the plan optimal": (
        "le solveur s'est arrêté à sa limite de temps avant de prouver le plan optimal"
    ),
    "not placed on the certified drive times: drive times to telecentres that may save it "
    "time are not certified within the border buffers (a wider --border-km certifies more)": (
        "non placé sur les seuls temps certifiés : les temps vers des télécentres qui pourraient "
        "lui faire gagner du temps ne sont pas certifiés dans les bordures (un --border-km plus "
        "large en certifie davantage)"
    ),
    "no telecentre saves time under the rules: those whose drive times are not certified are "
    "ruled out by the lower bounds of their times": (
        "aucun télécentre ne fait gagner de temps selon les règles : ceux dont les temps ne sont "
        "pas certifiés sont exclus par les bornes inférieures de leurs temps"
    ),
    "km a week": "km par semaine",
    # national reasons (optimizer.national.plan)
    "workplace outside every département": "lieu de travail hors de tout département",
    "home outside the buffer of its workplace's département": (
        "domicile hors de la bordure du département de son lieu de travail"
    ),
    "unreachable: no road route to the workplace": (
        "injoignable : aucun itinéraire routier vers le lieu de travail"
    ),
    "commute not certified: its route may leave the buffered network (widen the buffer)": (
        "trajet non certifié : son itinéraire peut sortir du réseau et de sa bordure (élargir "
        "la bordure)"
    ),
    "no site saves time: none within the longest acceptable drive saves at least the minimum "
    "saving on a day it can telework": (
        "aucun site ne fait gagner de temps : aucun, dans le trajet le plus long accepté, ne "
        "fait gagner au moins le gain minimum un jour où l'agent peut télétravailler"
    ),
    "capacity full: the sites that would save time are full on its days": (
        "capacité atteinte : les sites qui feraient gagner du temps sont pleins ses jours"
    ),
    "closed on its days: the sites that would save time are not open on enough of the days "
    "it can telework": (
        "fermé ses jours : les sites qui feraient gagner du temps ne sont pas ouverts assez de "
        "jours où l'agent peut télétravailler"
    ),
    "Telecentres to open ({rule}): {open}; not opened: {closed}.": (
        "Télécentres à ouvrir ({rule}) : {open} ; non ouverts : {closed}."
    ),
    "Telecentres to open ({rule}): {open}.": "Télécentres à ouvrir ({rule}) : {open}.",
    "none": "aucun",
    "opening costs": "coûts d'ouverture",
    "{rule} and opening costs": "{rule} et coûts d'ouverture",
    "chosen": "choisis",
    "Longest one-way drive to a telecentre: {longest} min (--minimax: the shortest any plan "
    "placing {agents} allows{limit}).": (
        "Plus long trajet aller vers un télécentre : {longest} min (--minimax : le plus court "
        "que permet un plan plaçant {agents}{limit})."
    ),
    "Longest one-way drive to a telecentre: {longest} min (--minimax: the shortest found "
    "for {agents} in the time limit, not proven shortest{limit}).": (
        "Plus long trajet aller vers un télécentre : {longest} min (--minimax : le plus court "
        "trouvé pour {agents} dans le temps limite, non prouvé le plus court{limit})."
    ),
    "Longest one-way drive to a telecentre: none (--minimax placed no agent{limit}).": (
        "Plus long trajet aller vers un télécentre : aucun (--minimax n'a placé aucun "
        "agent{limit})."
    ),
    "--select {select}: {placed} placed, not {select2}; the {agents} left out: {counts} "
    "(allocation.csv says why, agent by agent).": (
        "--select {select} : {placed} placés, pas {select2} ; les {agents} écartés : {counts} "
        "(allocation.csv dit pourquoi, agent par agent)."
    ),
    "--select {select} --select-by commute: {placed} of the {selected} selected placed, not "
    "{select2}: {why}.": (
        "--select {select} --select-by commute : {placed} des {selected} retenus placés, pas "
        "{select2} : {why}."
    ),
    "only {agents} gain from a telecentre open on their days": (
        "seuls {agents} gagnent à un télécentre ouvert leurs jours"
    ),
    "{count} of the selected had no free desk on their days at a telecentre that saves them "
    "time (the {free} desk-days left free are at telecentres or on days that do not serve "
    "them)": (
        "{count} des retenus n'avaient pas de poste libre leurs jours dans un télécentre qui "
        "leur fait gagner du temps (les {free} postes-jours restés libres sont dans des "
        "télécentres ou des jours qui ne les servent pas)"
    ),
    "{count} of the selected had no free desk at a telecentre that saves them time (the "
    "{free} desk-days left free are at telecentres or on days that do not serve them)": (
        "{count} des retenus n'avaient pas de poste libre dans un télécentre qui leur fait "
        "gagner du temps (les {free} postes-jours restés libres sont dans des télécentres ou "
        "des jours qui ne les servent pas)"
    ),
    "{count} of the selected were left out for other reasons ({counts})": (
        "{count} des retenus ont été écartés pour d'autres motifs ({counts})"
    ),
    "Re-plan from {file}: {stayed}, {moved} moved, {added} newly placed, {removed} no longer "
    "placed, {joined} joined, {left} left (move penalty {penalty} min a week, day-change "
    "penalty {day_penalty} min a week a weekday).": (
        "Nouveau plan depuis {file} : {stayed}, {moved} déplacés, {added} nouvellement placés, "
        "{removed} plus placés, {joined} arrivés, {left} partis (pénalité de déplacement "
        "{penalty} min par semaine, pénalité de changement de jour {day_penalty} min par "
        "semaine et par jour)."
    ),
    "{same} kept their telecentre and weekdays, {other} kept their telecentre on other weekdays": (
        "{same} ont gardé leur télécentre et leurs jours, {other} ont gardé leur télécentre "
        "d'autres jours"
    ),
    "{stayed_count} kept their telecentre (weekdays not compared: no schedule.csv next to the "
    "previous allocation)": (
        "{stayed_count} ont gardé leur télécentre (jours non comparés : pas de schedule.csv à côté "
        "de l'allocation précédente)"
    ),
    "{restored} agent id(s) of the previous allocation {file} had lost their leading zeros "
    "(a spreadsheet re-saved it): matched to the roster's ids with them. Keep ids as text "
    "when editing the file.": (
        "{restored} identifiant(s) d'agent de l'allocation précédente {file} avaient perdu "
        "leurs zéros de tête (un tableur l'a réenregistrée) : rapprochés des identifiants de "
        "la liste avec eux. Gardez les identifiants en texte en modifiant le fichier."
    ),
    "no agent id of the previous allocation {file} matches the current agents, so nobody "
    "keeps a place by the move penalty; {hint}.": (
        "aucun identifiant d'agent de l'allocation précédente {file} ne correspond aux agents "
        "actuels, donc personne ne garde sa place par la pénalité de déplacement ; {hint}."
    ),
    "its ids look like pseudonyms: give the same --pseudonymise SALT as the earlier run": (
        "ses identifiants ressemblent à des pseudonymes : donnez le même --pseudonymise SALT "
        "que le calcul précédent"
    ),
    "check that it is the allocation.csv of the same roster": (
        "vérifiez que c'est l'allocation.csv de la même liste d'agents"
    ),
    "Longest commutes to the head office (top {count}):": (
        "Plus longs trajets vers le siège ({count} premiers) :"
    ),
    "WARNING: {warning}": "ATTENTION : {warning}",
    "{file}: {columns} not read: {names}.": "{file} : {columns} non lue(s) : {names}.",
    "{count} columns": "{count} colonnes",
    "{count} column": "{count} colonne",
    "{file}: {names} that other départements share too, read as the commune in {area}: "
    "{communes}. If an agent lives in another, add a departement or code_postal column.": (
        "{file} : {names} que d'autres départements ont aussi, lu(s) comme la commune du "
        "{area} : {communes}. Si un agent habite dans une autre, ajoutez une colonne "
        "departement ou code_postal."
    ),
    "{count} commune names": "{count} noms de commune",
    "{count} commune name": "{count} nom de commune",
    "départements {codes}": "départements {codes}",
    "département {codes}": "département {codes}",
    "Drive times {percent} % off ({scenarios} scenarios): {holding} of {agents} keep their "
    "telecentre in every scenario ({exactly} themselves, {twin} by a tie: an identical twin, "
    "same home, days and rules, takes their place), {flipping} change it as drive times "
    "change; the plan saves {low} to {high} minutes a week.": (
        "Temps de trajet faux de {percent} % ({scenarios} scénarios) : {holding} sur "
        "{agents} gardent leur télécentre dans chaque scénario ({exactly} eux-mêmes, {twin} "
        "par une égalité : un jumeau identique, même domicile, jours et règles, prend leur "
        "place), {flipping} en changent selon les temps de trajet ; le plan fait gagner {low} "
        "à {high} minutes par semaine."
    ),
    "WARNING: in {scenarios} ({names}), the agents who must be assigned cannot all be: those "
    "scenarios were solved without must-assign.": (
        "ATTENTION : dans {scenarios} ({names}), les agents à affecter obligatoirement ne "
        "peuvent pas tous l'être : ces scénarios ont été résolus sans must-assign."
    ),
    "Wrote {files} in {seconds} s.": "Écrit {files} en {seconds} s.",
    "assign: error: {message}": "assign : erreur : {message}",
    # ------------------------------------------------ maps (optimizer.maps)
    "share of the commune's agents assigned": "part des agents de la commune affectés",
    "{count} agents, {assigned} assigned": "{count} agents, {assigned} affectés",
    "{count} agent, {assigned} assigned": "{count} agent, {assigned} affecté(s)",
    "{count} agents, {assigned} assigned, {unreachable} unreachable (off the road network)": (
        "{count} agents, {assigned} affectés, {unreachable} injoignables (hors du réseau routier)"
    ),
    "{count} agent, {assigned} assigned, {unreachable} unreachable (off the road network)": (
        "{count} agent, {assigned} affecté(s), {unreachable} injoignable(s) (hors du réseau "
        "routier)"
    ),
    "{count} agents, {used}/{offered} desk-days": "{count} agents, {used}/{offered} postes-jours",
    "telecentre (size: agents hosted)": "télécentre (taille : agents accueillis)",
    # assignment.gpkg's legends (optimizer.gpkg)
    "{low} to {high} placed": "{low} à {high} placés",
    "agents per telecentre and commune": "agents par télécentre et commune",
    "assigned": "affecté",
    "not assigned": "non affecté",
    "not opened": "non ouvert",
    "head office": "siège",
    "other workplace": "autre lieu de travail",
    "workplace": "lieu de travail",
    "agents per commune (size; colour: share assigned)": (
        "agents par commune (taille ; couleur : part affectée)"
    ),
    "agents per commune (size: agents)": "agents par commune (taille : agents)",
    "agents outside the département, at their commune's town hall (red edge: unreachable, "
    "off the road network)": (
        "agents hors du département, à la mairie de leur commune (bord rouge : injoignables, "
        "hors du réseau routier)"
    ),
    "{assigned} of {total} agents assigned": "{assigned} agents affectés sur {total}",
    "{count} unreachable (off the road network)": (
        "{count} injoignable(s) (hors du réseau routier)"
    ),
    "{count} agents in other communes (fewer than {cell} each), not shown": (
        "{count} agents dans d'autres communes (moins de {cell} chacune), non montrés"
    ),
    "APPROXIMATE road network": "Réseau routier APPROXIMATIF",
    "SYNTHETIC roster": "Liste d'agents SYNTHÉTIQUE",
    "ILLUSTRATIVE capacities": "Capacités INDICATIVES",
    "{what}: not for decisions": "{what} : pas pour décider",
    "{what}: figures not for decisions": "{what} : chiffres à ne pas utiliser pour décider",
    "département outline": "contour du département",
    "agents per commune": "agents par commune",
    "median drive to the head office {minutes} min": "trajet médian vers le siège {minutes} min",
    "agents outside the département": "agents hors du département",
    "(outside the département)": "(hors du département)",
    "{count} unreachable": "{count} injoignable(s)",
    "telecentres": "télécentres",
    "{used} of {offered} desk-days used a week ({capacity} desks each weekday)": (
        "{used} postes-jours utilisés sur {offered} par semaine ({capacity} postes chaque jour)"
    ),
    "Legend": "Légende",
    # ------------------------------------------------ summary.json sources
    "calibrated on public reference trips ({file})": (
        "calibré sur des trajets de référence publics ({file})"
    ),
    "ADEME Base Carbone, average car, fuel production and combustion": (
        "ADEME Base Carbone, voiture moyenne, production et combustion du carburant"
    ),
    "civil-service mileage allowance, car of 5 CV or less (arrêté of 3 July 2006 as amended "
    "14 March 2022)": (
        "indemnités kilométriques de la fonction publique, voiture de 5 CV et moins (arrêté du "
        "3 juillet 2006 modifié le 14 mars 2022)"
    ),
    "the run's own, from the true homes": "ceux du calcul, depuis les vrais domiciles",
    # ------------------------------------------------ console progress (stderr)
    "reading agents and telecentres": "lecture des agents et des télécentres",
    "reading road network {file}": "lecture du réseau routier {file}",
    "reading cached network {file}": "lecture du réseau en cache {file}",
    "snapping {count} points to the road network": (
        "raccordement de {count} points au réseau routier"
    ),
    "shortest paths from {count} destinations, both directions": (
        "plus courts chemins depuis {count} destinations, dans les deux sens"
    ),
    "solving the assignment": "résolution de l'affectation",
    "tracing the saving / longest-drive frontier": (
        "tracé de la frontière gain / plus long trajet"
    ),
    "writing results to {out}": "écriture des résultats dans {out}",
    "drive-time scenario {number} of {total}: {name}": (
        "scénario de temps de trajet {number} sur {total} : {name}"
    ),
    "starting or reaching the Dask cluster (--scheduler {scheduler})": (
        "démarrage ou connexion au cluster Dask (--scheduler {scheduler})"
    ),
    "({step}: {seconds} s)": "({step} : {seconds} s)",
}

#: The columns a map's tooltips name, in French.
MAP_COLUMNS: dict[str, str] = {"commune": "commune", "agents": "agents", "assigned": "affectés"}

#: A number as the library writes it: ``2,377``, ``44.2``, ``-3``, ``1.5%``.
_NUMBER = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?%?|-?\d+(?:\.\d+)?%?")
_FIELD = re.compile(r"\{(\w+)\}")
#: Placeholders that hold a number: matched as one, so that the sentence around cannot shift.
NUMBER_FIELDS = frozenset(
    {
        "added", "after", "assigned", "before", "commute", "count", "draw", "day_penalty",
        "free", "joined", "km", "left", "longest", "metres", "minutes", "more", "moved",
        "offered", "other", "penalty", "total", "cell", "capacity", "unreachable", "placed",
        "priority", "removed", "restored", "same", "seconds", "seed", "select", "select2",
        "selected",
        "percent", "holding", "exactly", "twin", "flipping", "low", "high",
        "stayed_count", "used", "groups", "pairs", "commutes", "margin",
    }
)  # fmt: skip


def _labels() -> dict[str, str]:
    """Return the first words of each reason (``capacity full``), as counts say them."""
    out: dict[str, str] = {}
    for english, french in MESSAGES.items():
        if ": " in english and " : " in french and not english.startswith("{"):
            head, head_fr = english.split(": ", 1)[0], french.split(" : ", 1)[0]
            if "{" not in head and not head[0].isupper() and not head.startswith("--"):
                out.setdefault(head, head_fr)
    return out


#: The first words of each reason (see :func:`optimizer.report._reason_label`).
LABELS: dict[str, str] = _labels()


def resolve_lang(lang: str | None = None, environ: Mapping[str, str] | None = None) -> Lang:
    """Return the language asked for, or the locale's: ``fr`` when it starts with ``fr``.

    Parameters
    ----------
    lang
        ``fr`` or ``en`` (any case); None: from the locale.
    environ
        The environment (default: :data:`os.environ`): ``LC_ALL``, then
        ``LC_MESSAGES``, then ``LANG``, the first set, as POSIX reads them.

    Returns
    -------
    str
        ``fr`` or ``en``.

    Raises
    ------
    InputError
        When ``lang`` is neither.
    """
    if lang is not None:
        value = lang.strip().lower()
        if value not in LANGS:
            msg = f"language must be one of {', '.join(LANGS)}, got {lang!r}."
            raise InputError(msg)
        return "fr" if value == "fr" else "en"
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        locale = env.get(name, "")
        if locale:
            return "fr" if locale.lower().startswith("fr") else "en"
    return "en"


@lru_cache(maxsize=1)
def _patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    """Each message with placeholders as a pattern: those starting with words first.

    ``WARNING: {warning}`` is tried before ``{file}: {columns} not read: {names}.``, which
    would take ``WARNING`` for a file.
    """
    out = []
    for english, french in MESSAGES.items():
        if "{" not in english:
            continue
        parts = _FIELD.split(english)
        regex = "".join(
            re.escape(part)
            if k % 2 == 0
            else f"(?P<{part}>{_NUMBER.pattern})"
            if part in NUMBER_FIELDS
            else f"(?P<{part}>.*?)"
            for k, part in enumerate(parts)
        )
        literal = sum(len(p) for p in parts[::2])
        out.append(((not parts[0], -literal), re.compile(regex, re.DOTALL), french))
    out.sort(key=lambda item: item[0])
    return tuple((pattern, french) for _, pattern, french in out)


def french_number(text: str) -> str:
    """Write a number the French way: ``2,377.5`` is ``2 377,5``; ``12.5%`` is ``12,5 %``."""
    percent = text.endswith("%")
    body = text[:-1] if percent else text
    body = body.replace(",", "\u202f").replace(".", ",")
    return body + ("\u202f%" if percent else "")


def _fr(text: str, *, whole: bool) -> str | None:
    """French of ``text`` from the catalogue, or None when it has none."""
    if text in MESSAGES:
        return MESSAGES[text]
    if text in LABELS:
        return LABELS[text]
    if not whole:
        if text in VALUES:
            return VALUES[text]
        if _NUMBER.fullmatch(text):
            return french_number(text)
    counted = re.fullmatch(r"(\d+) (.+)", text)  # "19 capacity full", in a list of counts
    if counted is not None and counted.group(2) in {**MESSAGES, **LABELS}:
        return f"{counted.group(1)} {_fr(counted.group(2), whole=True)}"
    for pattern, french in _patterns():
        match = pattern.fullmatch(text)
        if match is not None:
            return french.format(**{k: _piece(v) for k, v in match.groupdict().items()})
    return None


def _piece(text: str) -> str:
    """French of what a placeholder held: a number, a known word or sentence, a list of them."""
    found = _fr(text, whole=False)
    if found is not None:
        return found
    for sep in (", ", "; "):
        if sep in text:
            parts = text.split(sep)
            done = [_fr(p, whole=False) for p in parts]
            if any(d is not None for d in done):
                return (" ; " if sep == "; " else sep).join(
                    d if d is not None else p for d, p in zip(done, parts, strict=True)
                )
    return text


def translate(text: str, lang: Lang) -> str:
    """Put one sentence the tool writes into ``lang`` (English: as it is).

    A sentence of the catalogue, or one of its patterns, is translated whole;
    otherwise each of its ``"; "``-separated parts that the catalogue knows is.
    Text it does not know (an id, a name, a path) stays as it is.

    Parameters
    ----------
    text
        The English sentence.
    lang
        ``en`` or ``fr``.

    Returns
    -------
    str
        The sentence in ``lang``.
    """
    if lang == "en" or not text:
        return text
    parts = text.split("; ")
    done = [_fr(p, whole=True) for p in parts] if len(parts) > 1 else []
    if done and all(d is not None for d in done):  # "A saves ...; next best B ..."
        return " ; ".join(d for d in done if d is not None)
    found = _fr(text, whole=True)
    if found is not None:
        return found
    if any(d is not None for d in done):
        return " ; ".join(d if d is not None else p for d, p in zip(done, parts, strict=True))
    return text


def knows(text: str) -> bool:
    """Whether the catalogue translates ``text`` (whole, or each of its ``"; "`` parts)."""
    if "; " in text and all(_fr(p, whole=True) is not None for p in text.split("; ")):
        return True
    return _fr(text, whole=True) is not None


def translate_column(name: str, lang: Lang) -> str:
    """Return a column's name in ``lang`` (the files' names, and the maps' tooltips).

    Parameters
    ----------
    name
        The library's (English) name.
    lang
        ``en`` or ``fr``.

    Returns
    -------
    str
        The name in ``lang``.
    """
    if lang == "en":
        return name
    return COLUMNS.get(name, MAP_COLUMNS.get(name, name))


def localise_value(value: object, lang: Lang) -> object:
    """Return a coded value (``assigned``, ``mon|tue``) in ``lang``, as the files write it."""
    return value if lang == "en" else _value(value)


def _value(value: object) -> object:
    if not isinstance(value, str):
        return value
    if "|" in value:
        return "|".join(VALUES.get(v, v) for v in value.split("|"))
    return VALUES.get(value, value)


def localise_table(frame: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    """Put an output table into ``lang``: its column names, coded values and sentences.

    Parameters
    ----------
    frame
        A table as the library computed it (English).
    lang
        ``en`` (the table itself) or ``fr``.

    Returns
    -------
    pandas.DataFrame
        A new table in ``lang``.
    """
    if lang == "en":
        return frame
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_numeric_dtype(out[column]):
            continue
        if column in VALUE_COLUMNS:
            out[column] = out[column].map(_value)
        elif column in TEXT_COLUMNS:
            out[column] = out[column].map(lambda v: translate(v, lang) if isinstance(v, str) else v)
        elif column == "communes":
            out[column] = out[column].map(_communes)
    return out.rename(columns=lambda c: COLUMNS.get(c, c))


def _communes(value: object) -> object:
    if not isinstance(value, str):
        return value
    for english in ("other communes", "unknown commune"):
        value = value.replace(f"{english} (", f"{MESSAGES[english]} (")
    return value


#: French column names and values back to the library's.
_COLUMNS_BACK = {fr: en for en, fr in COLUMNS.items()}
_VALUES_BACK = {fr: en for en, fr in VALUES.items()}


def delocalise_table(frame: pd.DataFrame, columns: Iterable[str] = VALUE_COLUMNS) -> pd.DataFrame:
    """Read a table the tool wrote in either language back in the library's English.

    Column names and the coded values of ``columns`` (``statut``: ``affecté``;
    ``jour``: ``lundi``) are put back; anything else is left as it is.

    Parameters
    ----------
    frame
        The table read.
    columns
        The (English) columns of coded values.

    Returns
    -------
    pandas.DataFrame
        The table in English.
    """
    out = frame.rename(columns=lambda c: _COLUMNS_BACK.get(str(c).strip(), c))
    for column in columns:
        if column in out and not pd.api.types.is_numeric_dtype(out[column]):
            out[column] = out[column].map(_value_back)
    return out


def _value_back(value: object) -> object:
    if not isinstance(value, str):
        return value
    parts = [v.strip() for v in value.split("|")]
    return "|".join(_VALUES_BACK.get(p.lower(), _VALUES_BACK.get(p, p)) for p in parts)


def localise_summary(info: Any, lang: Lang) -> Any:
    """Put the sentences of ``summary.json`` into ``lang``; keys and figures stay as they are.

    Only texts holding a space are sentences: an id, a status (``optimal``) or
    a file name stays as it is.

    Parameters
    ----------
    info
        The summary (dicts, lists, strings, numbers).
    lang
        ``en`` or ``fr``.

    Returns
    -------
    object
        The same structure, its sentences in ``lang``.
    """
    if lang == "en":
        return info
    if isinstance(info, dict):
        return {k: localise_summary(v, lang) for k, v in info.items()}
    if isinstance(info, list):
        return [localise_summary(v, lang) for v in info]
    if isinstance(info, str) and " " in info:
        return translate(info, lang)
    return info


__all__ = [
    "COLUMNS",
    "LABELS",
    "LANGS",
    "MESSAGES",
    "VALUES",
    "WEEKDAYS_FR",
    "Lang",
    "delocalise_table",
    "knows",
    "localise_summary",
    "localise_table",
    "resolve_lang",
    "translate",
    "translate_column",
]
