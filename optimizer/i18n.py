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
    "best found within the {seconds} s limit": "meilleur trouvé dans la limite de {seconds} s",
    "best found within the {seconds} s limit, at most {gap} from the best possible": (
        "meilleur trouvé dans la limite de {seconds} s, à au plus {gap} du meilleur possible"
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
    # the result line of a national run (optimizer.cli.national), "; "-separated parts
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
    "the time limit ended the search before it was done (a longer --time-limit, or another "
    "run, may find another plan).": (
        "la limite de temps a arrêté la recherche avant son terme (un --time-limit plus long, "
        "ou une autre exécution, peut trouver un autre plan)."
    ),
    "every plan on the merged network saves at most {minutes} minutes a week.": (
        "tout plan sur le réseau fusionné gagne au plus {minutes} minutes par semaine."
    ),
    "every plan on the merged network saves at most {km} km a week.": (
        "tout plan sur le réseau fusionné gagne au plus {km} km par semaine."
    ),
    "every plan on the merged network drives at least {minutes} minutes a week.": (
        "tout plan sur le réseau fusionné roule au moins {minutes} minutes par semaine."
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
    "capacity full: the sites that would save time have no desk left for the whole week": (
        "capacité atteinte : les sites qui feraient gagner du temps n'ont plus de bureau "
        "libre pour toute la semaine"
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

#: The errors and warnings the command prints (issue 27): every message given to a project
#: exception or to ``logger.warning``/``logger.error`` in ``optimizer/``, English (a pattern)
#: and French. ``tests/test_messages_fr.py`` finds them in the source and fails on one
#: missing here. The pieces messages are built from come first.
ERRORS: dict[str, str] = {
    # ------------------------------------------------ pieces, levels, the command's own
    "row {line}": "ligne {line}",
    "row {line} ({column} '{value}'):": "ligne {line} ({column} '{value}') :",
    "the cache folder '{folder}' is a file, not a folder. Give a folder for the cache "
    "({option}).": (
        "le dossier de cache '{folder}' est un fichier, pas un dossier. Donnez un dossier pour "
        "le cache ({option})."
    ),
    "the cache folder '{folder}' is under '{ancestor}', a file, not a folder. Give a folder "
    "for the cache ({option}).": (
        "le dossier de cache '{folder}' est sous '{ancestor}', un fichier, pas un dossier. "
        "Donnez un dossier pour le cache ({option})."
    ),
    "and {more} more": "et {more} de plus",
    "WARNING": "ATTENTION",
    "ERROR": "ERREUR",
    "{message} (see assign --help)": "{message} (voir assign --help)",
    "assign: interrupted": "assign : interrompu",
    "No such option: {option}": "Option inconnue : {option}",
    "No such option {option}.": "Option inconnue {option}.",
    "No such option {option}. (Did you mean {name}?)": (
        "Option inconnue {option}. (Vouliez-vous dire {name} ?)"
    ),
    "No such option {option}. (Did you mean one of: {names}?)": (
        "Option inconnue {option}. (Vouliez-vous dire l'une de : {names} ?)"
    ),
    "{value} is not a valid integer range.": (
        "{value} n'est pas un entier valide dans l'intervalle."
    ),
    "{value} is not a valid integer.": "{value} n'est pas un entier valide.",
    "{value} is not a valid float range.": "{value} n'est pas un nombre valide dans l'intervalle.",
    "{value} is not a valid float.": "{value} n'est pas un nombre valide.",
    "{value} is not one of {choices}.": "{value} n'est pas l'une de {choices}.",
    "Missing option {option}.": "Option manquante {option}.",
    "Invalid value for {option}: {problem}": "Valeur invalide pour {option} : {problem}",
    "Got unexpected extra argument ({args})": "Argument en trop inattendu ({args})",
    "Got unexpected extra arguments ({args})": "Arguments en trop inattendus ({args})",
    "Option {option} requires an argument.": "L'option {option} demande un argument.",
    "is empty": "est vide",
    "{file}: {names} that other départements share too, read as the commune in {area}: "
    "{communes}. If {who}, add a departement or code_postal column.": (
        "{file} : {names} que d'autres départements ont aussi, lu(s) comme la commune du "
        "{area} : {communes}. Si {who}, ajoutez une colonne departement ou code_postal."
    ),
    "an agent lives in another": "un agent habite dans une autre",
    "{what} stands in another": "{what} est dans une autre",
    "a telecentre": "un télécentre",
    "a workplace": "un lieu de travail",
    "each agent's home": "le domicile de chaque agent",
    # the roster's columns a message names (optimizer/national/groups.py)
    "impossible_days": "jours_impossibles",
    "preferred_days": "jours_préférés",
    "its commune of residence": "sa commune de résidence",
    "each workplace": "chaque lieu de travail",
    "each telecentre": "chaque télécentre",
    "its commune": "sa commune",
    "'{column}' (or {names})": "'{column}' (ou {names})",
    "'{column}' (or {names}); '{column2}' (or {names2})": (
        "'{column}' (ou {names}) ; '{column2}' (ou {names2})"
    ),
    ". Check the spelling, or give the INSEE code or the postcode.": (
        ". Vérifiez l'orthographe, ou donnez le code INSEE ou le code postal."
    ),
    "; did you mean {shown}? Check the spelling, or give the INSEE code.": (
        " ; vouliez-vous dire {shown} ? Vérifiez l'orthographe, ou donnez le code INSEE."
    ),
    "did you mean {shown}? Check the spelling, or give the INSEE code.": (
        "vouliez-vous dire {shown} ? Vérifiez l'orthographe, ou donnez le code INSEE."
    ),
    "region {code}": "région {code}",
    "profile {name}": "profil {name}",
    "calibrated": "calibré",
    "realistic": "realistic",  # a speed model's name (--speed-model realistic)
    "solution": "solution",
    "assignment": "affectation",
    "weekly plan": "plan hebdomadaire",
    "point": "point",
    "polygon": "polygone",
    "graph": "graphe",
    "the GeoDataFrame": "le GeoDataFrame",
    "a zip archive (an Excel .xlsx or .ods workbook?)": (
        "une archive zip (un classeur Excel .xlsx ou .ods ?)"
    ),
    "gzip-compressed": "compressé en gzip",
    "an old Excel .xls workbook": "un ancien classeur Excel .xls",
    "a GeoPackage or SQLite database (name it .gpkg)": (
        "une base GeoPackage ou SQLite (nommez-la .gpkg)"
    ),
    "a PDF document": "un document PDF",
    "a folder": "un dossier",
    "a device": "un périphérique",
    "a named pipe (FIFO)": "un tube nommé (FIFO)",
    "a socket": "un socket",
    "not a regular file": "pas un fichier ordinaire",
    "To work offline, get a département extract (e.g. lozere.osm.pbf) where there is internet "
    "and run: assign network --from-file lozere.osm.pbf --out lozere.graphml": (
        "Pour travailler hors ligne, récupérez un extrait du département (p. ex. lozere.osm.pbf) "
        "là où il y a internet et lancez : assign network --from-file lozere.osm.pbf --out "
        "lozere.graphml"
    ),
    "a telecentre stands in another": "un télécentre est dans une autre",
    "a workplace stands in another": "un lieu de travail est dans une autre",
    "'{shown}' is not a number": "'{shown}' n'est pas un nombre",
    "a separator too many (a trailing one, or one inside an unquoted value?)": (
        "un séparateur de trop (un en fin de ligne, ou un dans une valeur sans guillemets ?)"
    ),
    "cells missing": "des cellules manquent",
    "{row}, column '{column}'": "{row}, colonne '{column}'",
    "agents row {line}": "agents ligne {line}",
    "sites row {line}": "sites ligne {line}",
    ", row {line}": ", ligne {line}",
    "from {low} to {high}": "de {low} à {high}",
    "of {low} or more": "de {low} ou plus",
    "km": "km",
    "minutes": "minutes",
    "agent '{agent}'": "agent '{agent}'",
    "site {site}": "site {site}",
    "a workplace at ({lon}, {lat})": "un lieu de travail en ({lon}, {lat})",
    "the head office": "le siège",
    "the cache folder '{folder}'": "le dossier de cache '{folder}'",
    "is a file": "est un fichier",
    "is under '{ancestor}', a file": "est sous '{ancestor}', un fichier",
    "Check the coordinates (longitude first, WGS84 degrees).": (
        "Vérifiez les coordonnées (la longitude d'abord, en degrés WGS84)."
    ),
    "Longitude and latitude look swapped: give longitude first.": (
        "Longitude et latitude semblent inversées : donnez la longitude d'abord."
    ),
    "Separate ids with '|' (e.g. marvejols|langogne).": (
        "Séparez les identifiants par '|' (p. ex. marvejols|langogne)."
    ),
    "Give the workplaces file with --workplaces.": (
        "Donnez le fichier des lieux de travail avec --workplaces."
    ),
    "They look projected: give --crs (e.g. EPSG:2154 for Lambert-93).": (
        "Elles semblent projetées : donnez --crs (p. ex. EPSG:2154 pour Lambert-93)."
    ),
    "Longitude and latitude look swapped: check which column is which.": (
        "Longitude et latitude semblent inversées : vérifiez quelle colonne est laquelle."
    ),
    "Check the coordinates, or give a road network that covers them.": (
        "Vérifiez les coordonnées, ou donnez un réseau routier qui les couvre."
    ),
    # optimizer/calibration.py
    "calibrate needs a network prepared by this package (load_network).": (
        "calibrate a besoin d'un réseau préparé par ce logiciel (load_network)."
    ),
    "reference trip {label}: no route between its points on this network. Check that both ends "
    "are on the network's roads.": (
        "trajet de référence {label} : aucun itinéraire entre ses points sur ce réseau. "
        "Vérifiez que ses deux extrémités sont sur les routes du réseau."
    ),
    # optimizer/cli/
    "give --place or --from-file (or --polygon): exactly one source.": (
        "donnez --place ou --from-file (ou --polygon) : une seule source."
    ),
    "{option} must end in {suffix}, got '{path}'.": (
        "{option} doit finir par {suffix}, reçu '{path}'."
    ),
    # the suffixes of check_out_file's message above: file name endings, the same in French
    ".csv": ".csv",
    ".graphml": ".graphml",
    "--scheduler needs --agents, --telecentres and --network (a national folder).": (
        "--scheduler demande --agents, --telecentres et --network (un dossier national)."
    ),
    "{option}: '{source}' is the {file} of --out '{out}': this run writes its own {file2} "
    "there and would replace it. Move the input out of that folder, or give another --out.": (
        "{option} : '{source}' est le fichier {file} de --out '{out}' : ce calcul y écrit son "
        "propre {file2} et le remplacerait. Sortez l'entrée de ce dossier, ou donnez un autre "
        "--out."
    ),
    "--speed-profile: '{value}' is neither a profile ({known}) nor a .csv file.": (
        "--speed-profile : '{value}' n'est ni un profil ({known}) ni un fichier .csv."
    ),
    "--pseudonymise needs a non-empty salt (a secret phrase of your own).": (
        "--pseudonymise demande un sel non vide (une phrase secrète à vous)."
    ),
    "--pseudonymise: the salt is not valid text (bytes that are not UTF-8); type it again, in "
    "letters, digits and punctuation.": (
        "--pseudonymise : le sel n'est pas un texte valide (octets hors UTF-8) ; saisissez-le "
        "à nouveau, en lettres, chiffres et ponctuation."
    ),
    "--key-file holds the ids behind the pseudonyms: give --pseudonymise SALT too.": (
        "--key-file contient les identifiants derrière les pseudonymes : donnez aussi "
        "--pseudonymise SALT."
    ),
    "--key-file: '{key_file}' is the {option} file: the key would replace it. Give another "
    "file, e.g. --key-file key.csv.": (
        "--key-file : '{key_file}' est le fichier {option} : la clé le remplacerait. Donnez un "
        "autre fichier, p. ex. --key-file cle.csv."
    ),
    "--move-penalty weighs moves from a previous plan: give --previous FILE too.": (
        "--move-penalty pèse les déplacements depuis un plan précédent : donnez aussi "
        "--previous FICHIER."
    ),
    "--day-change-penalty weighs weekday changes from a previous plan: give --previous FILE too.": (
        "--day-change-penalty pèse les changements de jour depuis un plan précédent : donnez "
        "aussi --previous FICHIER."
    ),
    # optimizer/csvout.py
    "csv style must be one of {names}, got {style}.": (
        "le style CSV doit être l'un de {names}, reçu {style}."
    ),
    # optimizer/datasets.py
    "the embedded Lozère data is missing (no optimizer/_embedded nor data/ folder). Reinstall "
    "the package with 'pip install .' from the repository.": (
        "les données lozériennes intégrées manquent (ni dossier optimizer/_embedded ni data/). "
        "Réinstallez le paquet avec 'pip install .' depuis le dépôt."
    ),
    # optimizer/facilities.py
    "row {i} must be assigned but has no allowed column.": (
        "la ligne {i} doit être affectée mais n'a aucune colonne autorisée."
    ),
    "give max_open or opening_cost (or both) to choose telecentres.": (
        "donnez max_open ou opening_cost (ou les deux) pour choisir des télécentres."
    ),
    "max_open must be 0 or more, got {max_open}.": (
        "max_open doit valoir 0 ou plus, reçu {max_open}."
    ),
    # optimizer/fairness.py
    "weekly minimax: time limit reached after {x} solves; the longest drive is not proven the "
    "shortest": (
        "minimax hebdomadaire : temps limite atteint après {x} résolutions ; le plus long "
        "trajet n'est pas prouvé le plus court"
    ),
    # optimizer/geocode.py
    "the address service {base_url} answered {status} ({excerpt}). Try again later, or give "
    "communes instead.": (
        "le service d'adresses {base_url} a répondu {status} ({excerpt}). Réessayez plus tard, "
        "ou donnez plutôt les communes."
    ),
    "the address service {base_url} cannot be reached ({kind}): geocoding needs a connection. "
    "Offline, give each agent's commune instead (column commune, insee or code_postal), which "
    "needs none.": (
        "le service d'adresses {base_url} est injoignable ({kind}) : le géocodage demande une "
        "connexion. Hors ligne, donnez plutôt la commune de chaque agent (colonne commune, "
        "insee ou code_postal), qui n'en demande pas."
    ),
    "geocoding cache: cannot read {x} ({x2}); not used": (
        "cache de géocodage : impossible de lire {x} ({x2}) ; non utilisé"
    ),
    "geocoding cache: {x} is not a file; not used, not replaced": (
        "cache de géocodage : {x} n'est pas un fichier ; non utilisé, non remplacé"
    ),
    "geocoding cache: {x} is corrupt and cannot be set aside ({x2}); its address is asked again": (
        "cache de géocodage : {x} est corrompu et ne peut être mis de côté ({x2}) ; son "
        "adresse est redemandée"
    ),
    "geocoding cache: {x} was corrupt (truncated?); set aside as {x2}, its address is asked "
    "again": (
        "cache de géocodage : {x} était corrompu (tronqué ?) ; mis de côté sous {x2}, son "
        "adresse est redemandée"
    ),
    "geocoding cache: cannot write in {x} ({x2}); the answer is not cached": (
        "cache de géocodage : impossible d'écrire dans {x} ({x2}) ; la réponse n'est pas mise "
        "en cache"
    ),
    "{file}: no address column ({names}). The file has: {names2}.": (
        "{file} : aucune colonne d'adresse ({names}). Le fichier a : {names2}."
    ),
    # optimizer/i18n.py
    "language must be one of {names}, got {lang}.": (
        "la langue doit être l'une de {names}, reçu {lang}."
    ),
    # optimizer/inputs.py
    "{file}: cannot be read ({reason}). Check the path and its permissions.": (
        "{file} : illisible ({reason}). Vérifiez le chemin et ses droits."
    ),
    "{file}: more than the {max_input_bytes} MB an input may hold. Split the roster or give "
    "only the columns needed.": (
        "{file} : plus que les {max_input_bytes} Mo qu'une entrée peut contenir. Découpez la "
        "liste ou ne donnez que les colonnes utiles."
    ),
    "{file}: holds binary data, not CSV text. Save it as CSV (UTF-8) first.": (
        "{file} : contient des données binaires, pas du texte CSV. Enregistrez-le d'abord en "
        "CSV (UTF-8)."
    ),
    "{file}: is {what}, not a CSV text file. Save it as CSV (UTF-8) first.": (
        "{file} : est {what}, pas un fichier texte CSV. Enregistrez-le d'abord en CSV (UTF-8)."
    ),
    "{file}: the file is empty. Give a header line and one row per item.": (
        "{file} : le fichier est vide. Donnez une ligne d'en-tête et une ligne par élément."
    ),
    "{file}: not a readable CSV table ({detail}). Check the separators and quotes.": (
        "{file} : pas un tableau CSV lisible ({detail}). Vérifiez les séparateurs et les "
        "guillemets."
    ),
    "{file}: the header has column '{labels_seen_key}' (column {seen_key}) and '{label}' "
    "(column {j}): one name, two columns. Keep one, or rename the other.": (
        "{file} : l'en-tête a la colonne '{labels_seen_key}' (colonne {seen_key}) et '{label}' "
        "(colonne {j}) : un nom, deux colonnes. Gardez-en une, ou renommez l'autre."
    ),
    "{file}: {row} has {count2} cells but the header has {count3} columns ({names}): {hint}. "
    "Make every row match the header, whose last column is '{last}'.": (
        "{file} : {row} a {count2} cellules mais l'en-tête a {count3} colonnes ({names}) : "
        "{hint}. Faites correspondre chaque ligne à l'en-tête, dont la dernière colonne est "
        "'{last}'."
    ),
    "{file}: columns '{found_field}' and '{column}' are both read as '{field}': keep one, or "
    "rename the other.": (
        "{file} : les colonnes '{found_field}' et '{column}' sont toutes deux lues comme "
        "'{field}' : gardez-en une, ou renommez l'autre."
    ),
    "{file}: missing column {wanted}. The file has: {have}.": (
        "{file} : colonne manquante {wanted}. Le fichier a : {have}."
    ),
    "{file}: column '{column}' is not understood, and its name says it may matter to the plan. "
    "Rename it as one of the columns read, or remove it: {shown}.": (
        "{file} : la colonne '{column}' n'est pas comprise, et son nom dit qu'elle peut "
        "compter pour le plan. Renommez-la comme l'une des colonnes lues, ou supprimez-la : "
        "{shown}."
    ),
    "{file}: columns '{cols_taken}' and '{column}' are both read as '{taken}': keep one, or "
    "rename the other.": (
        "{file} : les colonnes '{cols_taken}' et '{column}' sont toutes deux lues comme "
        "'{taken}' : gardez-en une, ou renommez l'autre."
    ),
    "{file}: {row}, column '{column}': the id is empty. Give every row an id.": (
        "{file} : {row}, colonne '{column}' : l'identifiant est vide. Donnez un identifiant à "
        "chaque ligne."
    ),
    "{file}: {row}, column '{column}': id '{value}' is already used on {row2}. Ids must be "
    "unique.": (
        "{file} : {row}, colonne '{column}' : l'identifiant '{value}' est déjà utilisé en "
        "{row2}. Les identifiants doivent être uniques."
    ),
    "{file}: {row}, column '{column}': '{value}' names several telecentres; give one id "
    "(forbidden_telecentres takes several, separated by |).": (
        "{file} : {row}, colonne '{column}' : '{value}' nomme plusieurs télécentres ; donnez "
        "un seul identifiant (forbidden_telecentres en prend plusieurs, séparés par |)."
    ),
    "{file}: {row}, column '{column}': '{value}' is a code, not a commune name. Put INSEE "
    "codes in a code_insee column and postcodes in a code_postal column.": (
        "{file} : {row}, colonne '{column}' : '{value}' est un code, pas un nom de commune. "
        "Mettez les codes INSEE dans une colonne code_insee et les codes postaux dans une "
        "colonne code_postal."
    ),
    "{file}: {row}, column '{column}': '{value}' is not a commune name (an address?). Give the "
    "commune's name only: this column is copied into telecentres.csv and home addresses are "
    "personal data.": (
        "{file} : {row}, colonne '{column}' : '{value}' n'est pas un nom de commune (une "
        "adresse ?). Donnez seulement le nom de la commune : cette colonne est recopiée dans "
        "telecentres.csv et les adresses des domiciles sont des données personnelles."
    ),
    "{file}: {row}, column '{column}': '{value}' is not yes or no. Write yes/no (or 1/0, "
    "true/false, oui/non).": (
        "{file} : {row}, colonne '{column}' : '{value}' n'est ni oui ni non. Écrivez oui/non "
        "(ou 1/0, true/false, yes/no)."
    ),
    "{file}: {row}, column '{column}': '{part}' is not a weekday. Write mon, tue, wed, thu, "
    "fri (or lundi..vendredi), separated by |.": (
        "{file} : {row}, colonne '{column}' : '{part}' n'est pas un jour de semaine. Écrivez "
        "lundi..vendredi (ou mon, tue, wed, thu, fri), séparés par |."
    ),
    "{file}: {row}, column '{get}': '{ref}' is not a telecentre id. Known ids: {shown}.{hint}": (
        "{file} : {row}, colonne '{get}' : '{ref}' n'est pas un identifiant de télécentre. "
        "Identifiants connus : {shown}.{hint}"
    ),
    "{file}: {count2} problems on {rows} rows (the header is row 1); fix them all, then run "
    "again:": (
        "{file} : {count2} problèmes sur {rows} lignes (l'en-tête est la ligne 1) ; "
        "corrigez-les tous, puis relancez :"
    ),
    "{where}: {raw} is not a finite number.": "{where} : {raw} n'est pas un nombre fini.",
    "{where}: {what}. Give a number.": "{where} : {what}. Donnez un nombre.",
    "{where}: '{raw}' is too large. Give a finite number.": (
        "{where} : '{raw}' est trop grand. Donnez un nombre fini."
    ),
    "{row}, column '{column}': '{raw_i}' is not a whole number {span}.": (
        "{row}, colonne '{column}' : '{raw_i}' n'est pas un nombre entier {span}."
    ),
    "{row}, column '{column}': '{raw}' is not a priority. Give a number (higher is served "
    "first), or leave the cell empty.": (
        "{row}, colonne '{column}' : '{raw}' n'est pas une priorité. Donnez un nombre (le plus "
        "élevé est servi d'abord), ou laissez la cellule vide."
    ),
    "--crs: '{crs}' is not a known CRS. Give e.g. EPSG:2154 (Lambert-93).": (
        "--crs : '{crs}' n'est pas un SCR connu. Donnez p. ex. EPSG:2154 (Lambert-93)."
    ),
    "{where}: ({lon}, {lat}) is not a longitude/latitude pair in degrees.{hint}": (
        "{where} : ({lon}, {lat}) n'est pas un couple longitude/latitude en degrés.{hint}"
    ),
    "{file}: {where}point ({lon_i}, {lat_i}) lies outside the road network's area (lon "
    "{west}..{east}, lat {south}..{north}).{hint}": (
        "{file} : {where}le point ({lon_i}, {lat_i}) est hors de la zone du réseau routier "
        "(lon {west}..{east}, lat {south}..{north}).{hint}"
    ),
    "{file}: {row}, column '{cols}': {kmh} km/h is not a speed from {min_kmh} to {max_kmh}.": (
        "{file} : {row}, colonne '{cols}' : {kmh} km/h n'est pas une vitesse de {min_kmh} à "
        "{max_kmh}."
    ),
    "{file}: {row}, column '{column}': '{table_column}' is not a road class. Give one of: "
    "{names}.": (
        "{file} : {row}, colonne '{column}' : '{table_column}' n'est pas une classe de route. "
        "Donnez l'une de : {names}."
    ),
    "{file}: the layer has no CRS. Set one (e.g. EPSG:4326).": (
        "{file} : la couche n'a pas de SCR. Donnez-en un (p. ex. EPSG:4326)."
    ),
    "{file}: no polygon in the layer. Give the area as polygons.": (
        "{file} : aucun polygone dans la couche. Donnez la zone en polygones."
    ),
    "{file}: column '{cols}': give one delay in seconds (0 to 600), the same on every row.": (
        "{file} : colonne '{cols}' : donnez un seul délai en secondes (0 à 600), le même sur "
        "chaque ligne."
    ),
    "{file}: {row}, column '{cols}': {value} is not a factor in (0, 1.5]: the fraction of the "
    "speed limit a car cruises at.": (
        "{file} : {row}, colonne '{cols}' : {value} n'est pas un facteur dans ]0 ; 1,5] : la "
        "part de la vitesse limite à laquelle roule une voiture."
    ),
    "{file}: no reference trip in the file. Give one row per trip.": (
        "{file} : aucun trajet de référence dans le fichier. Donnez une ligne par trajet."
    ),
    "{file}: {row}, column '{cols_key}': {out_key} is not a WGS84 coordinate (degrees).": (
        "{file} : {row}, colonne '{cols_key}' : {out_key} n'est pas une coordonnée WGS84 (degrés)."
    ),
    "{file}: {row}, column '{cols}': {minutes_i} minutes; a reference trip takes a positive "
    "time.": (
        "{file} : {row}, colonne '{cols}' : {minutes_i} minutes ; un trajet de référence prend "
        "un temps positif."
    ),
    "{file}: {row}: {minutes_i} minutes for {straight_i} km as the crow flies is {kmh_i} km/h, "
    "faster than {max_reference_kmh} km/h. Check the minutes and the coordinates.": (
        "{file} : {row} : {minutes_i} minutes pour {straight_i} km à vol d'oiseau font {kmh_i} "
        "km/h, plus que {max_reference_kmh} km/h. Vérifiez les minutes et les coordonnées."
    ),
    "{file}: {row}, column '{cols}': {km_i} km is shorter than the straight line ({straight_i} "
    "km). Give the road distance.": (
        "{file} : {row}, colonne '{cols}' : {km_i} km est plus court que la ligne droite "
        "({straight_i} km). Donnez la distance par la route."
    ),
    "{what}: '{text}' is not LON,LAT (two numbers, longitude first, e.g. 3.5012,44.5178).": (
        "{what} : '{text}' n'est pas LON,LAT (deux nombres, la longitude d'abord, p. ex. "
        "3.5012,44.5178)."
    ),
    "{file}: no agents in the file. Give at least one row under the header.": (
        "{file} : aucun agent dans le fichier. Donnez au moins une ligne sous l'en-tête."
    ),
    "{error} Give {what} as lon, lat, or {commune} as commune (a name), insee (INSEE code) or "
    "code_postal (an adresse column: geocode it first with 'assign geocode').": (
        "{error} Donnez {what} en lon, lat, ou {commune} en commune (un nom), insee (code "
        "INSEE) ou code_postal (une colonne adresse : géocodez-la d'abord avec 'assign "
        "geocode')."
    ),
    "{row}: no coordinates and no commune ({given} empty). Give the home's lon and lat, or its "
    "commune.": (
        "{row} : ni coordonnées ni commune ({given} vides). Donnez la lon et la lat du "
        "domicile, ou sa commune."
    ),
    "{row}, column '{cols_key}': {error}": "{row}, colonne '{cols_key}' : {error}",
    "{file}: no workplaces in the file. Give at least one row under the header.": (
        "{file} : aucun lieu de travail dans le fichier. Donnez au moins une ligne sous l'en-tête."
    ),
    "{file}: {row}, column '{cols}': id '{out}' {what}. Rename the workplace.": (
        "{file} : {row}, colonne '{cols}' : l'identifiant '{out}' {what}. Renommez le lieu de "
        "travail."
    ),
    "{where}: workplace id '{sorted_clash}' is also a telecentre id (in {sites}). Give "
    "workplaces ids of their own.": (
        "{where} : l'identifiant de lieu de travail '{sorted_clash}' est aussi un identifiant "
        "de télécentre (dans {sites}). Donnez aux lieux de travail des identifiants propres."
    ),
    "{file}: {row}, column '{get}': '{ref}' is not a workplace id. Known ids: {shown}.{hint}": (
        "{file} : {row}, colonne '{get}' : '{ref}' n'est pas un identifiant de lieu de "
        "travail. Identifiants connus : {shown}.{hint}"
    ),
    "{file}: {row}, column '{cols}': id '{out}' holds a space or '|', which separate ids in "
    "forbidden_telecentres. Use '-' or '_' instead.": (
        "{file} : {row}, colonne '{cols}' : l'identifiant '{out}' contient une espace ou '|', "
        "qui séparent les identifiants dans forbidden_telecentres. Utilisez '-' ou '_' à la "
        "place."
    ),
    "{file}: {row}: 'head_office' is reserved for the head office; rename the telecentre.": (
        "{file} : {row} : 'head_office' est réservé au siège ; renommez le télécentre."
    ),
    "{file}: desks per weekday need all five columns mon..fri; missing: {missing}.": (
        "{file} : les postes par jour demandent les cinq colonnes mon..fri ; il manque : {missing}."
    ),
    "{file}: no telecentres in the file. Give at least one row under the header.": (
        "{file} : aucun télécentre dans le fichier. Donnez au moins une ligne sous l'en-tête."
    ),
    "{file}: {row}, column '{cols}': {costs_bad_0} is not a cost from 0 to {max_opening_cost} "
    "(minutes a week).": (
        "{file} : {row}, colonne '{cols}' : {costs_bad_0} n'est pas un coût de 0 à "
        "{max_opening_cost} (minutes par semaine)."
    ),
    "{file}: file not found. Check the path.": "{file} : fichier introuvable. Vérifiez le chemin.",
    "{file}: is a folder, not a file. Give the path of a CSV or GeoPackage file.": (
        "{file} : est un dossier, pas un fichier. Donnez le chemin d'un fichier CSV ou GeoPackage."
    ),
    "{file}: {path_stat} MB is more than the {max_input_bytes} MB an input may hold. Split the "
    "roster or give only the columns needed.": (
        "{file} : {path_stat} Mo, c'est plus que les {max_input_bytes} Mo qu'une entrée peut "
        "contenir. Découpez la liste ou ne donnez que les colonnes utiles."
    ),
    "{file}: --crs applies to CSV files only; a point layer carries its own CRS.": (
        "{file} : --crs ne s'applique qu'aux fichiers CSV ; une couche de points porte son "
        "propre SCR."
    ),
    "{file}: holds {count2} layers ({names}). Name the one to read: {file2}:{layers_0}": (
        "{file} : contient {count2} couches ({names}). Nommez celle à lire : {file2}:{layers_0}"
    ),
    "{file}: no layer '{layer}'; the file holds: {names}. Give {file2}:LAYER with one of them.": (
        "{file} : pas de couche '{layer}' ; le fichier contient : {names}. Donnez "
        "{file2}:COUCHE avec l'une d'elles."
    ),
    "{file}: cannot be read as a {kind} layer ({detail}). Check that it is a valid file.": (
        "{file} : illisible comme couche {kind} ({detail}). Vérifiez que c'est un fichier valide."
    ),
    "{file}: the layer has no CRS. Set one (e.g. EPSG:4326) before reading it.": (
        "{file} : la couche n'a pas de SCR. Donnez-en un (p. ex. EPSG:4326) avant de la lire."
    ),
    "{file}: {row}: geometry is not a point. Give one point per feature.": (
        "{file} : {row} : la géométrie n'est pas un point. Donnez un point par entité."
    ),
    "{file}: the file is UTF-8 but line(s) {shown} hold bytes that are not (it was probably "
    "saved by two programs): the names there would be misread. Save the file again as UTF-8 "
    "(in Excel: CSV UTF-8), or fix those lines.": (
        "{file} : le fichier est en UTF-8 mais la ou les lignes {shown} contiennent des octets "
        "qui ne le sont pas (il a sans doute été enregistré par deux programmes) : les noms y "
        "seraient mal lus. Enregistrez à nouveau le fichier en UTF-8 (dans Excel : CSV UTF-8), "
        "ou corrigez ces lignes."
    ),
    "{file}: cannot decode the file as UTF-8 or cp1252. Save it as UTF-8 CSV.": (
        "{file} : impossible de décoder le fichier en UTF-8 ou cp1252. Enregistrez-le en CSV UTF-8."
    ),
    # optimizer/model/cpsat.py
    "CP-SAT found the problem infeasible after the feasibility check passed; please report this.": (
        "CP-SAT a trouvé le problème infaisable après que la vérification de faisabilité est "
        "passée ; merci de le signaler."
    ),
    "CP-SAT found no {what} within {time_limit_s} s; raise the time limit.": (
        "CP-SAT n'a trouvé aucun {what} en {time_limit_s} s ; augmentez le temps limite."
    ),
    # optimizer/model/feasibility.py
    "max-flow failed; please report this.": "le flot maximal a échoué ; merci de le signaler.",
    "agent '{ids_first}' must be assigned but no telecentre is open to it ({reasons_first}); "
    "{counted} in all.": (
        "l'agent '{ids_first}' doit être affecté mais aucun télécentre ne lui est ouvert "
        "({reasons_first}) ; {counted} en tout."
    ),
    "{counted} must be assigned but --select allows only {limit}. Raise --select or assign "
    "fewer agents by force.": (
        "{counted} doivent être affectés mais --select n'en permet que {limit}. Augmentez "
        "--select ou affectez moins d'agents d'office."
    ),
    "{counted} must be assigned but the telecentres open to them{rule_text} hold {counted2}: "
    "{names_or}. Agents: {agents}. Add desks, relax the rules, or assign fewer agents by force.": (
        "{counted} doivent être affectés mais les télécentres qui leur sont ouverts{rule_text} "
        "ont {counted2} : {names_or}. Agents : {agents}. Ajoutez des postes, assouplissez les "
        "règles, ou affectez moins d'agents d'office."
    ),
    # optimizer/model/flow.py
    "min-cost flow stopped with status {status}; please report this.": (
        "le flot de coût minimal s'est arrêté avec le statut {status} ; merci de le signaler."
    ),
    "min-cost flow found the problem infeasible; please report this.": (
        "le flot de coût minimal a trouvé le problème infaisable ; merci de le signaler."
    ),
    # optimizer/model/problem.py
    "minutes must be a 2-D array (agents x telecentres), got shape {shape}.": (
        "minutes doit être un tableau à 2 dimensions (agents x télécentres), reçu la forme {shape}."
    ),
    "capacities has shape {shape}, expected ({m},).": (
        "capacities a la forme {shape}, attendu ({m},)."
    ),
    "{file} has shape {shape}, expected ({n}, {m}) (agents x telecentres).": (
        "{file} a la forme {shape}, attendu ({n}, {m}) (agents x télécentres)."
    ),
    "{file} has shape {shape}, expected ({n},).": "{file} a la forme {shape}, attendu ({n},).",
    "capacities must be whole numbers >= 0, got {tolist}.": (
        "les capacités doivent être des nombres entiers >= 0, reçu {tolist}."
    ),
    "telework days must be whole numbers >= 1.": (
        "les jours de télétravail doivent être des nombres entiers >= 1."
    ),
    "--select must be a whole number of agents, 0 or more, got {select3}; give a whole number "
    "(such as 10).": (
        "--select doit être un nombre entier d'agents, 0 ou plus, reçu {select3} ; donnez un "
        "nombre entier (comme 10)."
    ),
    "--max-minutes must be positive, got {max_minutes}.": (
        "--max-minutes doit être positif, reçu {max_minutes}."
    ),
    "--min-saving must be 0 or more, got {min_saving}.": (
        "--min-saving doit valoir 0 ou plus, reçu {min_saving}."
    ),
    "objective must be one of {names}, got {objective}.": (
        "l'objectif doit être l'un de {names}, reçu {objective}."
    ),
    "objective 'km' needs distances (km and head-office km).": (
        "l'objectif 'km' demande des distances (km et km vers le siège)."
    ),
    "must_assign must have one flag per agent ({n}).": (
        "must_assign doit avoir un indicateur par agent ({n})."
    ),
    "excluded must have one flag per agent ({n}).": (
        "excluded doit avoir un indicateur par agent ({n})."
    ),
    "the preference bonus must be 0 or more, got {preference_bonus}.": (
        "le bonus de préférence doit valoir 0 ou plus, reçu {preference_bonus}."
    ),
    "{file} pairs must be (agent index, telecentre index) within the problem.": (
        "les paires {file} doivent être (indice d'agent, indice de télécentre) dans le problème."
    ),
    "the move penalty must be 0 or more, got {move_penalty}.": (
        "la pénalité de déplacement doit valoir 0 ou plus, reçu {move_penalty}."
    ),
    "tie_scale must be a whole number >= 1, got {tie_scale}.": (
        "tie_scale doit être un nombre entier >= 1, reçu {tie_scale}."
    ),
    "tie_weight must be {n_agents} whole numbers >= 0 when tie_scale > 1.": (
        "tie_weight doit être {n_agents} nombres entiers >= 0 quand tie_scale > 1."
    ),
    "tie_scale {tie_scale} must exceed every tie weight (largest {int}): else a tie weight "
    "could outweigh a second saved.": (
        "tie_scale {tie_scale} doit dépasser chaque poids d'égalité (le plus grand : {int}) : "
        "sinon un poids d'égalité pourrait l'emporter sur une seconde gagnée."
    ),
    "{file} must hold numbers (NaN for unreachable), got {kind}.": (
        "{file} doit contenir des nombres (NaN pour injoignable), reçu {kind}."
    ),
    "{file} of {where} is {numbers_tuple_bad_0} {unit} ({bad_shape_0} negative value(s) in "
    "all): drive times and distances must be 0 or more (NaN for unreachable); fix the travel "
    "table.": (
        "{file} de {where} vaut {numbers_tuple_bad_0} {unit} ({bad_shape_0} valeur(s) "
        "négative(s) en tout) : les temps de trajet et les distances doivent valoir 0 ou plus "
        "(NaN pour injoignable) ; corrigez la table des trajets."
    ),
    "engine must be one of {names}, got {engine}.": (
        "le moteur doit être l'un de {names}, reçu {engine}."
    ),
    # optimizer/model/weekly.py
    "weekly pairs: the sampled plan leaves agents who must be assigned out; solving the whole "
    "configuration model": (
        "paires hebdomadaires : le plan échantillonné laisse de côté des agents à affecter "
        "obligatoirement ; résolution du modèle de configurations entier"
    ),
    "an agent who must be assigned has no telecentre open on enough of its days.": (
        "un agent à affecter obligatoirement n'a aucun télécentre ouvert assez de ses jours."
    ),
    "no plan placing every agent who must be assigned was found in {time_limit_s} s; allow "
    "more time (--time-limit) or fewer must-assign agents.": (
        "aucun plan plaçant chaque agent à affecter obligatoirement n'a été trouvé en "
        "{time_limit_s} s ; laissez plus de temps (--time-limit) ou moins d'agents "
        "obligatoires."
    ),
    "the agents who must be assigned cannot all get desks on their days.": (
        "les agents à affecter obligatoirement ne peuvent pas tous avoir un poste leurs jours."
    ),
    "weekly pairs: no split-days bound ({x})": (
        "paires hebdomadaires : pas de borne de jours partagés ({x})"
    ),
    "pair_agent, pair_site and pair_gain must have the same length.": (
        "pair_agent, pair_site et pair_gain doivent avoir la même longueur."
    ),
    "counts and must need one entry per group ({g_count}), counts >= 0.": (
        "counts et must demandent une entrée par groupe ({g_count}), counts >= 0."
    ),
    "allowed and preferred must be {g_count} x 5 booleans.": (
        "allowed et preferred doivent être {g_count} x 5 booléens."
    ),
    "desks must be whole numbers >= 0, one row per telecentre, 5 weekdays.": (
        "les postes doivent être des nombres entiers >= 0, une ligne par télécentre, 5 jours."
    ),
    "telework days must be 1 to 5.": "les jours de télétravail doivent aller de 1 à 5.",
    "pairs must name groups and telecentres within the problem.": (
        "les paires doivent nommer des groupes et des télécentres du problème."
    ),
    "limit must be 0 or more, got {limit}.": "la limite doit valoir 0 ou plus, reçu {limit}.",
    "hopeful pairs cannot be priced with kept weekdays (keep must be 0).": (
        "les paires incertaines ne peuvent pas être évaluées avec des jours conservés (keep "
        "doit valoir 0)."
    ),
    "kept must be {size} weekday masks 0-31 (one per pair), keep >= 0.": (
        "kept doit être {size} masques de jours 0-31 (un par paire), keep >= 0."
    ),
    "HiGHS could not solve the weekly LP: {message}": (
        "HiGHS n'a pas pu résoudre le programme linéaire hebdomadaire : {message}"
    ),
    # optimizer/national/cluster.py
    "--scheduler {scheduler}: Dask is not installed here; install it with pip install "
    "'lozere-telework-optimizer[national]' (dask[distributed], pyarrow).": (
        "--scheduler {scheduler} : Dask n'est pas installé ici ; installez-le avec pip install "
        "'lozere-telework-optimizer[national]' (dask[distributed], pyarrow)."
    ),
    "--scheduler {scheduler}: Dask cannot use this address ({error}). Give a scheduler address "
    "such as tcp://HOST:8786 (tls:// needs Dask's TLS settings, distributed.comm.tls).": (
        "--scheduler {scheduler} : Dask ne peut pas utiliser cette adresse ({error}). Donnez "
        "une adresse d'ordonnanceur comme tcp://HOTE:8786 (tls:// demande les réglages TLS de "
        "Dask, distributed.comm.tls)."
    ),
    "--scheduler {scheduler}: cannot reach the Dask scheduler ({error}). Check that it runs "
    "(dask scheduler) and that this machine can reach its address and port, or use --scheduler "
    "local:N for a cluster on this machine.": (
        "--scheduler {scheduler} : l'ordonnanceur Dask est injoignable ({error}). Vérifiez "
        "qu'il tourne (dask scheduler) et que cette machine peut joindre son adresse et son "
        "port, ou utilisez --scheduler local:N pour une grappe sur cette machine."
    ),
    "--scheduler {scheduler}: give local:N with N workers >= 1 (e.g. local:2).": (
        "--scheduler {scheduler} : donnez local:N avec N travailleurs >= 1 (p. ex. local:2)."
    ),
    "--scheduler {scheduler}: give local[:N] (a cluster of N processes here) or a scheduler "
    "address such as tcp://HOST:8786.": (
        "--scheduler {scheduler} : donnez local[:N] (une grappe de N processus ici) ou une "
        "adresse d'ordonnanceur comme tcp://HOTE:8786."
    ),
    "--scheduler {scheduler}: this machine has {cores} core(s); give local:N with N at most "
    "{cores2}, or a cluster's address for more.": (
        "--scheduler {scheduler} : cette machine a {cores} cœur(s) ; donnez local:N avec N au "
        "plus {cores2}, ou l'adresse d'une grappe pour davantage."
    ),
    # optimizer/national/extracts.py
    "{source_or_code}: the extract has no drivable road (0 edges). Check its file.": (
        "{source_or_code} : l'extrait n'a aucune route carrossable (0 arête). Vérifiez son fichier."
    ),
    "{source_or_code}: the extract has {count2} border node(s) but no area: give the area it "
    "holds every road of.": (
        "{source_or_code} : l'extrait a {count2} nœud(s) de bordure mais pas de zone : donnez "
        "la zone dont il contient toutes les routes."
    ),
    "{file}: cannot read the cached extract ({reason}). Delete it to rebuild.": (
        "{file} : impossible de lire l'extrait en cache ({reason}). Supprimez-le pour le "
        "reconstruire."
    ),
    "{file}: not a cached extract of this version, or damaged. Delete it to rebuild.": (
        "{file} : pas un extrait en cache de cette version, ou endommagé. Supprimez-le pour le "
        "reconstruire."
    ),
    "{file}: cached extract of another version. Delete it to rebuild.": (
        "{file} : extrait en cache d'une autre version. Supprimez-le pour le reconstruire."
    ),
    "{file}: the cached extract is damaged (checksum mismatch). Delete it to rebuild.": (
        "{file} : l'extrait en cache est endommagé (somme de contrôle différente). "
        "Supprimez-le pour le reconstruire."
    ),
    "{file}: cannot read the cached extract ({error}). Delete it to rebuild.": (
        "{file} : impossible de lire l'extrait en cache ({error}). Supprimez-le pour le "
        "reconstruire."
    ),
    "{file}: not a cached extract. Delete it to rebuild.": (
        "{file} : pas un extrait en cache. Supprimez-le pour le reconstruire."
    ),
    "{x}; rebuilding it": "{x} ; reconstruction",
    # optimizer/national/files.py
    "{file}: cannot be read as département polygons ({first}).": (
        "{file} : illisible comme polygones de départements ({first})."
    ),
    "{file}: feature {rows_0} {what} ({count2} such feature(s)). Give every département its "
    "code and polygon.": (
        "{file} : l'entité {rows_0} {what} ({count2} entité(s) de ce genre). Donnez à chaque "
        "département son code et son polygone."
    ),
    "{file}: has no coordinate reference system. Save it with one (EPSG:4326).": (
        "{file} : n'a pas de système de coordonnées de référence. Enregistrez-le avec un "
        "(EPSG:4326)."
    ),
    "{file}: needs a 'code' column (the département code).": (
        "{file} : il faut une colonne 'code' (le code du département)."
    ),
    "{folder}: a national network folder needs {names} (département polygons with a 'code' "
    "column).": (
        "{folder} : un dossier de réseau national demande {names} (des polygones de "
        "départements avec une colonne 'code')."
    ),
    "{folder}: with --scheduler, --network is a folder (see README, National scale).": (
        "{folder} : avec --scheduler, --network est un dossier (voir le README, échelle nationale)."
    ),
    "{folder}: holds both OSM files named by a département ({shown}) and others ({shown2}): "
    "give one file per département or exactly one large file to split, and move the others out "
    "of the folder.": (
        "{folder} : contient à la fois des fichiers OSM nommés par un département ({shown}) et "
        "d'autres ({shown2}) : donnez un fichier par département ou un seul grand fichier à "
        "découper, et sortez les autres du dossier."
    ),
    "{folder}: give one OpenStreetMap file per département (CODE.osm.pbf, CODE a 'code' of the "
    "départements file, e.g. {some}) or exactly one large file to split; found {count2} other "
    "OSM files ({shown}).": (
        "{folder} : donnez un fichier OpenStreetMap par département (CODE.osm.pbf, CODE étant "
        "un 'code' du fichier des départements, p. ex. {some}) ou un seul grand fichier à "
        "découper ; trouvé {count2} autres fichiers OSM ({shown})."
    ),
    "{folder}: give one OpenStreetMap file per département (CODE.osm.pbf, CODE a 'code' of the "
    "départements file, e.g. {some}) or exactly one large file to split; found {count2} other "
    "OSM files.": (
        "{folder} : donnez un fichier OpenStreetMap par département (CODE.osm.pbf, CODE étant "
        "un 'code' du fichier des départements, p. ex. {some}) ou un seul grand fichier à "
        "découper ; trouvé {count2} autres fichiers OSM."
    ),
    "{x}: another run is splitting the network; waiting": (
        "{x} : un autre calcul découpe le réseau ; attente"
    ),
    "{x}: missing, or changed since the split (size or time): splitting {x2} again": (
        "{x} : manquant, ou modifié depuis le découpage (taille ou date) : nouveau découpage "
        "de {x2}"
    ),
    "--head-office {lon},{lat} lies outside every département of {network}.{hint}": (
        "--head-office {lon},{lat} est hors de tous les départements de {network}.{hint}"
    ),
    "{row_name}: workplace '{ids_iloc_k}' is not in the workplaces file (--workplaces).": (
        "{row_name} : le lieu de travail '{ids_iloc_k}' n'est pas dans le fichier des lieux de "
        "travail (--workplaces)."
    ),
    "{row_name} names no workplace: give workplace_id (with --workplaces), "
    "workplace_lon/workplace_lat, or --head-office.": (
        "{row_name} ne nomme aucun lieu de travail : donnez workplace_id (avec --workplaces), "
        "workplace_lon/workplace_lat, ou --head-office."
    ),
    "{row_name}: no coordinates and no commune: give lon, lat or commune / insee / code_postal.": (
        "{row_name} : ni coordonnées ni commune : donnez lon, lat ou commune / insee / code_postal."
    ),
    "{agents_file}: give workplace_lon, workplace_lat columns, workplace_id with --workplaces, "
    "or --head-office.": (
        "{agents_file} : donnez les colonnes workplace_lon, workplace_lat, workplace_id avec "
        "--workplaces, ou --head-office."
    ),
    "allocation_file: agents must be the roster the allocation was planned for, in its order.": (
        "allocation_file : les agents doivent être la liste pour laquelle l'allocation a été "
        "planifiée, dans son ordre."
    ),
    "{file}: row {i}, column '{column}': '{raw}' is not a number. Give the workplace's "
    "coordinates as decimal numbers, or leave both cells empty to use workplace_id or "
    "--head-office.": (
        "{file} : ligne {i}, colonne '{column}' : '{raw}' n'est pas un nombre. Donnez les "
        "coordonnées du lieu de travail en nombres décimaux, ou laissez les deux cellules "
        "vides pour utiliser workplace_id ou --head-office."
    ),
    "{file}: row {i}: one of '{by_name_names_0}', '{by_name_names_1}' is empty. Give both "
    "coordinates of the workplace, or neither.": (
        "{file} : ligne {i} : l'une de '{by_name_names_0}', '{by_name_names_1}' est vide. "
        "Donnez les deux coordonnées du lieu de travail, ou aucune."
    ),
    "{file}: row {i}: workplace point ({lon_i}, {lat_i}) is not longitude, latitude in "
    "degrees. Check the columns, or give --crs.": (
        "{file} : ligne {i} : le point de travail ({lon_i}, {lat_i}) n'est pas longitude, "
        "latitude en degrés. Vérifiez les colonnes, ou donnez --crs."
    ),
    # optimizer/national/groups.py
    "agents lack column(s) {missing}: give points, or a resolver that makes them.": (
        "il manque aux agents la ou les colonnes {missing} : donnez des points, ou un "
        "résolveur qui les produit."
    ),
    "{row_name}: a point has no coordinates (home lon, lat or workplace_lon, workplace_lat): "
    "give them, or a resolver that makes them.": (
        "{row_name} : un point n'a pas de coordonnées (lon, lat du domicile ou workplace_lon, "
        "workplace_lat) : donnez-les, ou un résolveur qui les produit."
    ),
    "{row_name}: telework_days must be 1 to 5 (a whole number), got {given_iloc_k}.": (
        "{row_name} : telework_days doit aller de 1 à 5 (un nombre entier), reçu {given_iloc_k}."
    ),
    "{row_name}: agent_id is empty. Give every agent an id of its own.": (
        "{row_name} : agent_id est vide. Donnez à chaque agent un identifiant propre."
    ),
    "{row_name}: agent_id '{text_iloc_k}' is already used on row {row_number}. Ids must be "
    "unique.": (
        "{row_name} : agent_id '{text_iloc_k}' est déjà utilisé ligne {row_number}. Les "
        "identifiants doivent être uniques."
    ),
    "{row_name}: {column} {text}: unknown weekday {part}. Write mon, tue, wed, thu, fri "
    "separated by |.": (
        "{row_name} : {column} {text} : jour inconnu {part}. Écrivez mon, tue, wed, "
        "thu, fri séparés par |."
    ),
    # optimizer/national/pbf.py
    "{file}: cannot be read as OpenStreetMap data ({error}). Is the file complete?": (
        "{file} : illisible comme données OpenStreetMap ({error}). Le fichier est-il complet ?"
    ),
    "{file}: its roads do not reach the border around {code} (they cover {share} of the "
    "neighbouring départements' land within half of it): cut short at the file's edge, they "
    "would give times it cannot certify. Give files that cover their département and the "
    "border, put the one large file alone in the folder (it is split with the border), or give "
    "a narrower --border-km (0: none).": (
        "{file} : ses routes n'atteignent pas la bordure autour de {code} (elles couvrent "
        "{share} du territoire des départements voisins dans la moitié de celle-ci) : coupées "
        "au bord du fichier, elles donneraient des temps qu'il ne peut certifier. Donnez des "
        "fichiers qui couvrent leur département et la bordure, mettez le grand fichier seul "
        "dans le dossier (il est découpé avec la bordure), ou donnez un --border-km plus "
        "étroit (0 : aucune)."
    ),
    # optimizer/national/plan.py
    "{named}: its table is missing from {folder}; no plan was made.": (
        "{named} : sa table manque dans {folder} ; aucun plan n'a été fait."
    ),
    "max_minutes must be positive, got {max_minutes}.": (
        "max_minutes doit être positif, reçu {max_minutes}."
    ),
    "min_saving must be 0 or more, got {min_saving}.": (
        "min_saving doit valoir 0 ou plus, reçu {min_saving}."
    ),
    "buffer_km must be 0 or more, got {buffer_km}.": (
        "buffer_km doit valoir 0 ou plus, reçu {buffer_km}."
    ),
    "{name} must be 0 or more, got {bonus}.": "{name} doit être 0 ou plus, reçu {bonus}.",
    "workplace id '{clash}' is both given and made from a point: rename it.": (
        "l'identifiant de lieu de travail '{clash}' est à la fois donné et tiré d'un point : "
        "renommez-le."
    ),
    "select must be a whole number of agents, 0 or more, got {select}.": (
        "select doit être un nombre entier d'agents, 0 ou plus, reçu {select}."
    ),
    "select_by must be 'saving' or 'commute', got {select_by}.": (
        "select_by doit être 'saving' ou 'commute', reçu {select_by}."
    ),
    "objective must be 'minutes', 'km' or 'travel', got {objective}.": (
        "objective doit être 'minutes', 'km' ou 'travel', reçu {objective}."
    ),
    "widen_rounds must be a whole number 0 or more, got {widen_rounds}.": (
        "widen_rounds doit être un nombre entier, 0 ou plus, reçu {widen_rounds}."
    ),
    "{where}, column '{get}': '{shown}' is a rule a national run does not apply yet ({int} "
    "row(s) set it). Empty the column, or plan fewer agents at a time for those rules.": (
        "{where}, colonne '{get}' : '{shown}' est une règle qu'un calcul national n'applique "
        "pas encore ({int} ligne(s) la fixent). Videz la colonne, ou planifiez moins "
        "d'agents à la fois pour ces règles."
    ),
    "sites need desks per weekday (mon..fri) or a capacity column.": (
        "les sites demandent des postes par jour (mon..fri) ou une colonne capacity."
    ),
    "sites: desks must be whole numbers >= 0.": (
        "sites : les postes doivent être des nombres entiers >= 0."
    ),
    "sites lack column {column}.": "il manque aux sites la colonne {column}.",
    "sites: no site given. Give at least one candidate site.": (
        "sites : aucun site donné. Donnez au moins un site candidat."
    ),
    "sites: telecentre_id values must be unique.": (
        "sites : les valeurs de telecentre_id doivent être uniques."
    ),
    "{where} ({site_ids_k}), column 'opening_cost': {sites} chooses which sites open, which a "
    "national run does not do yet (it opens them all). Remove the column, or plan without "
    "--scheduler.": (
        "{where} ({site_ids_k}), colonne 'opening_cost' : {sites} choisit quels sites ouvrent, "
        "ce qu'un calcul national ne fait pas encore (il les ouvre tous). Supprimez la "
        "colonne, ou planifiez sans --scheduler."
    ),
    "{where}{size} site(s) lie outside every département, e.g. {site_ids_k} at ({sites}, "
    "{sites2}){row}: check their coordinates, or add that département (its polygon and its "
    "road network).": (
        "{where}{size} site(s) hors de tout département, p. ex. {site_ids_k} en ({sites}, "
        "{sites2}){row} : vérifiez leurs coordonnées, ou ajoutez ce département (son polygone "
        "et son réseau routier)."
    ),
    "département(s) {names} have sites or workplaces but no road network (e.g. {example} in "
    "{lacking_0}): give their networks (CODE.osm.pbf, or the PBF that covers them).": (
        "le ou les départements {names} ont des sites ou des lieux de travail mais pas de "
        "réseau routier (p. ex. {example} dans {lacking_0}) : donnez leurs réseaux "
        "(CODE.osm.pbf, ou le PBF qui les couvre)."
    ),
    "{départements} {codes}: the workers running {their_tasks} died repeatedly (out of memory? "
    "a task that kills its worker also fails the tasks beside it); no plan was made.": (
        "{départements} {codes} : les travailleurs qui exécutaient {their_tasks} sont morts à "
        "plusieurs reprises (mémoire épuisée ? une tâche qui tue son travailleur fait aussi "
        "échouer les tâches voisines) ; aucun plan n'a été fait."
    ),
    "{named}: the cluster lost its task ({error}); no plan was made.": (
        "{named} : la grappe a perdu sa tâche ({error}) ; aucun plan n'a été fait."
    ),
    # optimizer/national/solve.py
    "desks must be whole numbers >= 0.": "les postes doivent être des nombres entiers >= 0.",
    "the national min-cost flow stopped with status {status}; please report this.": (
        "le flot de coût minimal national s'est arrêté avec le statut {status} ; merci de le "
        "signaler."
    ),
    # optimizer/netcache.py
    "network cache {x}: cannot be used ({x2}); not cached": (
        "cache réseau {x} : inutilisable ({x2}) ; pas de mise en cache"
    ),
    "network cache {x}: not a regular file; left alone, not cached": (
        "cache réseau {x} : pas un fichier ordinaire ; laissé tel quel, pas de mise en cache"
    ),
    "network cache {x}: not a cache file of ours; left alone": (
        "cache réseau {x} : pas un fichier de cache de ce logiciel ; laissé tel quel"
    ),
    "network cache {x}: this network cannot be cached ({x2})": (
        "cache réseau {x} : ce réseau ne peut pas être mis en cache ({x2})"
    ),
    "network cache {x}: cannot be written ({x2}); not cached": (
        "cache réseau {x} : impossible de l'écrire ({x2}) ; pas de mise en cache"
    ),
    "network cache {x}: cannot be read ({x2})": "cache réseau {x} : illisible ({x2})",
    "network cache {x}: not a regular file; not read": (
        "cache réseau {x} : pas un fichier ordinaire ; non lu"
    ),
    "network cache {x}: not a cache file of ours; not read": (
        "cache réseau {x} : pas un fichier de cache de ce logiciel ; non lu"
    ),
    # optimizer/network.py
    "edge {u}->{v} has no valid length ({length}); the network file is damaged.": (
        "l'arête {u}->{v} n'a pas de longueur valide ({length}) ; le fichier du réseau est "
        "endommagé."
    ),
    "{file}: cannot be read ({error}).": "{file} : illisible ({error}).",
    "{file}: network file not found. Check the path.": (
        "{file} : fichier de réseau introuvable. Vérifiez le chemin."
    ),
    "{file}: is a folder. Give a network file (.osm.pbf, .osm, .graphml), or, for a national "
    "network folder (departements.gpkg and OSM files), --scheduler local:N too.": (
        "{file} : est un dossier. Donnez un fichier de réseau (.osm.pbf, .osm, .graphml), ou, "
        "pour un dossier de réseau national (departements.gpkg et fichiers OSM), --scheduler "
        "local:N aussi."
    ),
    "{file}: unknown network format. Give an OpenStreetMap extract (.osm.pbf, .osm, .osm.bz2, "
    ".osm.gz) or a GraphML file (.graphml).": (
        "{file} : format de réseau inconnu. Donnez un extrait OpenStreetMap (.osm.pbf, .osm, "
        ".osm.bz2, .osm.gz) ou un fichier GraphML (.graphml)."
    ),
    "{file}: cannot be read ({reason}). Check the file's permissions.": (
        "{file} : illisible ({reason}). Vérifiez les droits du fichier."
    ),
    "network cache {x}: {x2}; preparing {x3} again and rewriting it": (
        "cache réseau {x} : {x2} ; {x3} est préparé à nouveau et réécrit"
    ),
    "{file}: cannot be read as GraphML ({kind}: {error}).": (
        "{file} : illisible comme GraphML ({kind} : {error})."
    ),
    "{file}: no drivable road in this extract ({counts} highway ways read). Check that it "
    "covers the area and holds roads (highway=*).": (
        "{file} : aucune route carrossable dans cet extrait ({counts} voies highway lues). "
        "Vérifiez qu'il couvre la zone et contient des routes (highway=*)."
    ),
    "{file}: osmnx cannot build a graph from it ({kind}: {error}).": (
        "{file} : osmnx ne peut pas en construire un graphe ({kind} : {error})."
    ),
    "give a place name or a polygon (one of the two).": (
        "donnez un nom de lieu ou un polygone (l'un des deux)."
    ),
    "--buffer-km must be 0 or more, got {buffer_km}.": (
        "--buffer-km doit valoir 0 ou plus, reçu {buffer_km}."
    ),
    "OpenStreetMap's geocoder refused the request ({error}). Try again later.": (
        "le géocodeur d'OpenStreetMap a refusé la requête ({error}). Réessayez plus tard."
    ),
    "cannot reach OpenStreetMap's geocoder ({kind}). {offline_hint}": (
        "le géocodeur d'OpenStreetMap est injoignable ({kind}). {offline_hint}"
    ),
    "place '{place}' is a {geom_type}, not an area. Give an area's name.": (
        "le lieu '{place}' est un {geom_type}, pas une zone. Donnez le nom d'une zone."
    ),
    "place '{place}' is not an area in OpenStreetMap. Give a commune, département...": (
        "le lieu '{place}' n'est pas une zone dans OpenStreetMap. Donnez une commune, un "
        "département..."
    ),
    "place '{place}' was not found by OpenStreetMap's geocoder. Check the spelling.": (
        "le lieu '{place}' n'a pas été trouvé par le géocodeur d'OpenStreetMap. Vérifiez "
        "l'orthographe."
    ),
    "cannot reach the OpenStreetMap servers ({kind}). {offline_hint}": (
        "les serveurs d'OpenStreetMap sont injoignables ({kind}). {offline_hint}"
    ),
    "the OpenStreetMap server refused the request ({error}). Try again later.": (
        "le serveur d'OpenStreetMap a refusé la requête ({error}). Réessayez plus tard."
    ),
    "{label}: OpenStreetMap has no drivable road in this area.": (
        "{label} : OpenStreetMap n'a aucune route carrossable dans cette zone."
    ),
    "{source}: the network has no drivable road (0 edges). Check the extract.": (
        "{source} : le réseau n'a aucune route carrossable (0 arête). Vérifiez l'extrait."
    ),
    "speed profile '{profile}' is unknown. Choose one of: {known}.": (
        "profil de vitesse '{profile}' inconnu. Choisissez l'un de : {known}."
    ),
    "speed table: '{road_class}' has speed {kmh}; give km/h between 0 and 200.": (
        "table des vitesses : '{road_class}' a la vitesse {kmh} ; donnez des km/h entre 0 et 200."
    ),
    # optimizer/outfile.py
    "{option}: the file name is empty. Give a file to write.": (
        "{option} : le nom de fichier est vide. Donnez un fichier à écrire."
    ),
    "{option}: cannot use '{text}' ({error}). Choose another file.": (
        "{option} : impossible d'utiliser '{text}' ({error}). Choisissez un autre fichier."
    ),
    "{option}: cannot use '{text}' ({reason}). Choose another file.": (
        "{option} : impossible d'utiliser '{text}' ({reason}). Choisissez un autre fichier."
    ),
    "{option}: '{text}' is {kind}, not a file. Give the name of a file to write.": (
        "{option} : '{text}' est {kind}, pas un fichier. Donnez le nom d'un fichier à écrire."
    ),
    "{option}: '{text}' exists and was not written by this tool; it is left as it is. Choose "
    "another file, or pass --force to replace it.": (
        "{option} : '{text}' existe et n'a pas été écrit par cet outil ; il est laissé tel "
        "quel. Choisissez un autre fichier, ou passez --force pour le remplacer."
    ),
    "{option}: '{text}' is the file given to {file} ('{source}'); it would be overwritten. "
    "Write the output to another file.": (
        "{option} : '{text}' est le fichier donné à {file} ('{source}') ; il serait écrasé. "
        "Écrivez la sortie dans un autre fichier."
    ),
    "{option}: '{text}': '{ancestor}' is a file, not a folder. Give a file in a folder.": (
        "{option} : '{text}' : '{ancestor}' est un fichier, pas un dossier. Donnez un fichier "
        "dans un dossier."
    ),
    "{option}: cannot write in '{ancestor}' ({reason}). Choose a folder you can write to.": (
        "{option} : impossible d'écrire dans '{ancestor}' ({reason}). Choisissez un dossier où "
        "vous pouvez écrire."
    ),
    "{option}: the folder name is empty. Give a folder for the cache.": (
        "{option} : le nom de dossier est vide. Donnez un dossier pour le cache."
    ),
    "{named} {what}, not a folder. Give a folder for the cache ({option}).": (
        "{named} {what}, pas un dossier. Donnez un dossier pour le cache ({option})."
    ),
    "{named}: cannot write in '{ancestor}' ({reason}). Give a folder you can write to "
    "({option}).": (
        "{named} : impossible d'écrire dans '{ancestor}' ({reason}). Donnez un dossier où vous "
        "pouvez écrire ({option})."
    ),
    "{option}: '{target}' is {kind}, not a file; nothing was written.": (
        "{option} : '{target}' est {kind}, pas un fichier ; rien n'a été écrit."
    ),
    "{option}: cannot write '{target}' ({reason}); nothing was changed. Free some space or "
    "choose another file.": (
        "{option} : impossible d'écrire '{target}' ({reason}) ; rien n'a été changé. Libérez "
        "de la place ou choisissez un autre fichier."
    ),
    # optimizer/pipeline.py
    "{what} is {first} km from the nearest road of the network (limit {opts_max_snap_m} km). "
    "Check its coordinates or the network.": (
        "{what} est à {first} km de la route la plus proche du réseau (limite "
        "{opts_max_snap_m} km). Vérifiez ses coordonnées ou le réseau."
    ),
    "cannot combine {clash}. Run them one at a time.": (
        "impossible de combiner {clash}. Lancez-les un par un."
    ),
    # optimizer/places.py
    "'{file}' is not the name of a commune of France{hint}": (
        "'{file}' n'est pas le nom d'une commune de France{hint}"
    ),
    "'{insee}' is not an INSEE commune code. Give the 5-character code (e.g. 48095).": (
        "'{insee}' n'est pas un code INSEE de commune. Donnez le code à 5 caractères (p. ex. "
        "48095)."
    ),
    "'{postcode}' is not a postcode of any commune. Check it, or give the commune.": (
        "'{postcode}' n'est le code postal d'aucune commune. Vérifiez-le, ou donnez la commune."
    ),
    "INSEE code {code} is {file}, not '{file2}'. Check which of the two is right.": (
        "le code INSEE {code} est {file}, pas '{file2}'. Vérifiez lequel des deux est juste."
    ),
    "no commune, INSEE code or postcode given. Give one of them.": (
        "ni commune, ni code INSEE, ni code postal donné. Donnez l'un d'eux."
    ),
    "postcode {post} covers {count2} communes: {shown}. Give the commune's name or INSEE code.": (
        "le code postal {post} couvre {count2} communes : {shown}. Donnez le nom ou le code "
        "INSEE de la commune."
    ),
    "no commune named '{file}' has {given}; communes of that name: {shown}. Check the postcode "
    "or the département.": (
        "aucune commune nommée '{file}' n'a {given} ; communes de ce nom : {shown}. Vérifiez "
        "le code postal ou le département."
    ),
    "'{file}' names {count2} communes: {shown}. Add a code_postal, departement or insee column "
    "to tell them apart.": (
        "'{file}' nomme {count2} communes : {shown}. Ajoutez une colonne code_postal, "
        "departement ou insee pour les distinguer."
    ),
    "give names, INSEE codes or postcodes.": (
        "donnez des noms, des codes INSEE ou des codes postaux."
    ),
    # optimizer/publish.py
    "{option}: the folder name is empty. Give a folder for the results, e.g. assignment.": (
        "{option} : le nom de dossier est vide. Donnez un dossier pour les résultats, p. ex. "
        "assignment."
    ),
    "{option}: '{text}' is a file, not a folder. Give a folder for the results.": (
        "{option} : '{text}' est un fichier, pas un dossier. Donnez un dossier pour les résultats."
    ),
    "{option}: '{text}' is the current folder or holds it; results replace their folder as a "
    "whole. Give a folder of their own, e.g. assignment.": (
        "{option} : '{text}' est le dossier courant ou le contient ; les résultats remplacent "
        "leur dossier en entier. Donnez-leur un dossier propre, p. ex. assignment."
    ),
    "{option}: '{text}': '{ancestor}' is a file, not a folder. Give a folder for the results.": (
        "{option} : '{text}' : '{ancestor}' est un fichier, pas un dossier. Donnez un dossier "
        "pour les résultats."
    ),
    "--out: cannot lock '{lock_path}'. Try again.": (
        "--out : impossible de verrouiller '{lock_path}'. Réessayez."
    ),
    "--out: cannot write in '{parent}' ({reason}). Choose a folder you can write to.": (
        "--out : impossible d'écrire dans '{parent}' ({reason}). Choisissez un dossier où vous "
        "pouvez écrire."
    ),
    "another assign run is writing to {given} (pid {holder}); wait for it or choose another "
    "--out.": (
        "un autre calcul assign écrit dans {given} (pid {holder}) ; attendez-le ou choisissez "
        "un autre --out."
    ),
    "--out: cannot write in '{given}' (permission denied). Choose a folder you can write to.": (
        "--out : impossible d'écrire dans '{given}' (permission refusée). Choisissez un "
        "dossier où vous pouvez écrire."
    ),
    "restored {x} from an interrupted run": "{x} restauré après un calcul interrompu",
    "left {x}: it holds files that are not the tool's and clash with {x2}": (
        "{x} laissé : il contient des fichiers qui ne sont pas de l'outil et entrent en "
        "conflit avec {x2}"
    ),
    "--out: cannot write the results to '{given}' ({reason}); the previous results are "
    "unchanged. Free some space or choose another --out.": (
        "--out : impossible d'écrire les résultats dans '{given}' ({reason}) ; les résultats "
        "précédents sont inchangés. Libérez de la place ou choisissez un autre --out."
    ),
    "not the tool's own file names: {names}": "pas les noms de fichiers de l'outil : {names}",
    "moved {x} back into {x2}": "{x} remis dans {x2}",
    # optimizer/replan.py
    "{file}: missing column(s) {names}: is it a schedule.csv?": (
        "{file} : colonne(s) manquante(s) {names} : est-ce un schedule.csv ?"
    ),
    "{file}: weekday '{wrong_0}' is not one of {names}.": (
        "{file} : le jour '{wrong_0}' n'est pas l'un de {names}."
    ),
    "{file}: previous allocation not found. Give the allocation.csv of an earlier run.": (
        "{file} : allocation précédente introuvable. Donnez l'allocation.csv d'un calcul antérieur."
    ),
    "{file}: missing column(s) {names}: is it an allocation.csv?": (
        "{file} : colonne(s) manquante(s) {names} : est-ce un allocation.csv ?"
    ),
    # optimizer/schedule.py
    "desks must be whole numbers >= 0, one per telecentre and weekday ({m} x 5).": (
        "les postes doivent être des nombres entiers >= 0, un par télécentre et par jour ({m} x 5)."
    ),
    "allowed and preferred days must be {n} x 5 booleans.": (
        "les jours autorisés et préférés doivent être {n} x 5 booléens."
    ),
    "telework days must be 5 or fewer for a weekly plan.": (
        "les jours de télétravail doivent être 5 ou moins pour un plan hebdomadaire."
    ),
    "opening costs must be {m} numbers >= 0, one per telecentre.": (
        "les coûts d'ouverture doivent être {m} nombres >= 0, un par télécentre."
    ),
    "kept days must be {n} x 5 booleans.": "les jours gardés doivent être {n} x 5 booléens.",
    "the agents who must be assigned cannot all get desks on their days with at most "
    "{max_open} telecentre(s) open (--max-open).": (
        "les agents à affecter obligatoirement ne peuvent pas tous avoir un poste leurs jours "
        "avec au plus {max_open} télécentre(s) ouvert(s) (--max-open)."
    ),
    # optimizer/sharing.py
    "--key-file: '{file}' is inside the output folder '{out_dir}', which is meant to be "
    "shared. Keep the key apart, e.g. --key-file key.csv outside it.": (
        "--key-file : '{file}' est dans le dossier de sortie '{out_dir}', qui est fait pour "
        "être partagé. Gardez la clé à part, p. ex. --key-file cle.csv hors de celui-ci."
    ),
    "--key-file: '{file}' is a folder. Give a file name, e.g. key.csv.": (
        "--key-file : '{file}' est un dossier. Donnez un nom de fichier, p. ex. cle.csv."
    ),
    "--key-file: '{file}' would be inside '{ancestor}', which is a file, not a folder. Give a "
    "file name in a folder, e.g. key.csv.": (
        "--key-file : '{file}' serait dans '{ancestor}', qui est un fichier, pas un dossier. "
        "Donnez un nom de fichier dans un dossier, p. ex. cle.csv."
    ),
    "--key-file: '{file}' is not a regular file (a device, a pipe or a link): the key is never "
    "written there. Give a new file name, e.g. key.csv.": (
        "--key-file : '{file}' n'est pas un fichier ordinaire (un périphérique, un tube ou un "
        "lien) : la clé n'y est jamais écrite. Donnez un nouveau nom de fichier, p. ex. "
        "cle.csv."
    ),
    "--key-file: '{file}' exists and is not a key file this tool wrote: it is never replaced. "
    "Give a new file name, or move that file away.": (
        "--key-file : '{file}' existe et n'est pas un fichier de clé écrit par cet outil : il "
        "n'est jamais remplacé. Donnez un nouveau nom de fichier, ou déplacez ce fichier."
    ),
    # optimizer/speed_model.py
    "{source}: the junction delay is {shown} s; give a number of seconds from 0 to "
    "{max_junction_delay_s}.": (
        "{source} : le délai aux carrefours est de {shown} s ; donnez un nombre de secondes de "
        "0 à {max_junction_delay_s}."
    ),
    "{source}: the speed factor of '{highway}' is {shown}; give a number from {low2} to "
    "{high2}, the fraction of the speed limit a car cruises at.": (
        "{source} : le facteur de vitesse de '{highway}' est {shown} ; donnez un nombre de "
        "{low2} à {high2}, la part de la vitesse limite à laquelle roule une voiture."
    ),
    "speed model '{file}' is unknown. Choose one of: {names}.": (
        "modèle de vitesse '{file}' inconnu. Choisissez l'un de : {names}."
    ),
    "a road piece has no positive speed; check the speed profile and factors.": (
        "un tronçon de route n'a pas de vitesse positive ; vérifiez le profil de vitesse et "
        "les facteurs."
    ),
    # optimizer/travel.py
    "travel_table: limit must be positive minutes, got {limit}.": (
        "travel_table : la limite doit être un nombre positif de minutes, reçu {limit}."
    ),
    "travel_table: {what} lack column(s) {sorted}.": (
        "travel_table : il manque aux {what} la ou les colonnes {sorted}."
    ),
    "routes on this network are longer than the router handles exactly (over 134,000 km or 18 "
    "h); split the network.": (
        "les itinéraires de ce réseau sont plus longs que ce que le routeur traite exactement "
        "(plus de 134 000 km ou 18 h) ; découpez le réseau."
    ),
    # optimizer/uncertainty.py
    "drive-time scenarios need a network prepared by this package (load_network).": (
        "les scénarios de temps de trajet demandent un réseau préparé par ce logiciel "
        "(load_network)."
    ),
    "scenario {x}: {x2} Solved without must-assign.": (
        "scénario {x} : {x2} Résolu sans must-assign."
    ),
    "--speed-uncertainty must be a percentage above 0 and at most {max_uncertainty}, got {p}.": (
        "--speed-uncertainty doit être un pourcentage au-dessus de 0 et au plus "
        "{max_uncertainty}, reçu {p}."
    ),
    # ------------------------------------------------ network folders, prepared networks
    "--speed-uncertainty retimes one road network; a national network folder is timed "
    "département by département: give one network file for it.": (
        "--speed-uncertainty recalcule les temps d'un seul réseau routier ; un dossier de réseau "
        "national est minuté département par département : donnez pour cela un seul fichier de "
        "réseau."
    ),
    "--speed-profile: '{speed_profile}' is not a profile ({known}); a network folder is timed "
    "by a named profile.": (
        "--speed-profile : '{speed_profile}' n'est pas un profil ({known}) ; un dossier de réseau "
        "est minuté par un profil nommé."
    ),
    "{what} '{ident}' at ({lon}, {lat}) lies outside every département of {network} ({count} "
    "destination(s) do): check its coordinates, or add that département (its polygon and its "
    "road network).": (
        "{what} '{ident}' en ({lon}, {lat}) est hors de tout département de {network} ({count} "
        "destination(s) le sont) : vérifiez ses coordonnées, ou ajoutez ce département (son "
        "polygone et son réseau routier)."
    ),
    "impossible simplify pattern near OSM node at position {successor}": (
        "motif de simplification impossible près du nœud OSM en position {successor}"
    ),
    "no solver is registered: import optimizer.model, which registers its engines.": (
        "aucun solveur n'est enregistré : importez optimizer.model, qui enregistre ses moteurs."
    ),
}
MESSAGES.update(ERRORS)


#: The labels of the notebooks' figures and tables (``notebooks/``, issue 27): they call
#: :func:`translate` and :func:`localise_table` with the notebook's ``LANG``.
NOTEBOOK_LABELS: dict[str, str] = {
    # 01: the road network and travel times
    "minutes to Mende (one way)": "minutes vers Mende (aller simple)",
    "Drive to the head office per commune (APPROXIMATE network)": (
        "Trajet vers le siège par commune (réseau APPROXIMATIF)"
    ),
    "minutes to Mende": "minutes vers Mende",
    "inhabitants (thousands)": "habitants (milliers)",
    "Population by drive time to the head office": (
        "Population selon le temps de trajet vers le siège"
    ),
    "{percent} of Lozère's inhabitants live more than 30 minutes from Mende": (
        "{percent} des habitants de la Lozère vivent à plus de 30 minutes de Mende"
    ),
    "nom": "nom",
    "population_cog2026": "population_cog2026",
    "minutes_to_mende": "minutes_vers_mende",
    "km_to_mende": "km_vers_mende",
    # 02: choosing candidates
    "to Mende": "vers Mende",
    "to the best telecentre": "vers le meilleur télécentre",
    "one-way minutes": "minutes (aller simple)",
    "The 30 longest commutes, and what the best telecentre would leave": (
        "Les 30 trajets les plus longs, et ce qu'en laisserait le meilleur télécentre"
    ),
    "{count} volunteers save {minutes} minutes ({hours} h) and {km} km a week": (
        "{count} volontaires font gagner {minutes} minutes ({hours} h) et {km} km par semaine"
    ),
    "by saving, ranks among the longest commutes:": (
        "par gain, rangs parmi les trajets les plus longs :"
    ),
    "by commute, ranks:": "par trajet, rangs :",
    "hours saved a week: by saving {by_saving}, by commute {by_commute}": (
        "heures gagnées par semaine : par gain {by_saving}, par trajet {by_commute}"
    ),
    "By commute takes the 8 longest commutes a telecentre saves time; by saving, those who "
    "save the most a week (saving x telework days), which is close to, but not the same.": (
        "Par trajet prend les 8 plus longs trajets auxquels un télécentre fait gagner du temps ; "
        "par gain, ceux qui gagnent le plus par semaine (gain x jours de télétravail), ce qui "
        "est proche, mais pas pareil."
    ),
    # 03: scenarios
    "baseline: {assigned} assigned, {minutes} min a week": (
        "référence : {assigned} affectés, {minutes} min par semaine"
    ),
    "desks each weekday, all telecentres": "postes chaque jour, tous télécentres",
    "hours saved a week": "heures gagnées par semaine",
    "More desks, more time saved (with diminishing returns)": (
        "Plus de postes, plus de temps gagné (avec des rendements décroissants)"
    ),
    "driven to Mende (no telecentre)": "conduites vers Mende (sans télécentre)",
    "saved by the plan": "gagnées par le plan",
    "Hours a week, on the telework days": "Heures par semaine, les jours de télétravail",
    "hours a week": "heures par semaine",
    "volunteers selected (K)": "volontaires retenus (K)",
    "Each extra volunteer saves less than the one before": (
        "Chaque volontaire de plus fait gagner moins que le précédent"
    ),
    "factor": "facteur",
    "desks_each_weekday": "postes_chaque_jour",
    "median_minutes_to_mende": "minutes_médianes_vers_mende",
    "hours_driven_to_mende_on_telework_days": "heures_conduites_vers_mende_jours_télétravail",
    # 04: weekly plan and fairness
    "{status} | agents placed: {placed} | desk-days used: {used} of {offered} | a desk per "
    "agent all week would place {count}": (
        "{status} | agents placés : {placed} | postes-jours utilisés : {used} sur {offered} | "
        "un poste par agent toute la semaine en placerait {count}"
    ),
    "closed": "fermé",
    "share of the day's desks taken (agents / desks)": (
        "part des postes du jour occupés (agents / postes)"
    ),
    "Agents present per telecentre and weekday (agents / desks)": (
        "Agents présents par télécentre et par jour (agents / postes)"
    ),
    "best saving under a limit": "meilleur gain sous une limite",
    "{name} ({count} agents)": "{name} ({count} agents)",
    "max saving": "gain maximal",
    "minimax": "minimax",
    "longest one-way drive to a telecentre (minutes)": (
        "plus long trajet aller vers un télécentre (minutes)"
    ),
    "What fairness costs": "Ce que coûte l'équité",
    # 05: drive times and calibration
    "fitted:": "ajustés :",
    "free-flow": "flux libre",
    "realistic, defaults": "réaliste, par défaut",
    "realistic, calibrated": "réaliste, calibré",
    "{name}: median error {median} %, worst {worst} %": (
        "{name} : erreur médiane {median} %, pire {worst} %"
    ),
    "model = reference": "modèle = référence",
    "within 15 %": "à 15 % près",
    "reference car time (minutes)": "temps de référence en voiture (minutes)",
    "network's time (minutes)": "temps du réseau (minutes)",
    "Drive times against public reference trips": (
        "Temps de trajet face aux trajets de référence publics"
    ),
    "{holding} of {assigned_agents} assigned agents keep their telecentre in all {scenarios} "
    "scenarios; {status_holding} of {agents} agents keep their status.": (
        "{holding} agents affectés sur {assigned_agents} gardent leur télécentre dans les "
        "{scenarios} scénarios ; {status_holding} agents sur {agents} gardent leur statut."
    ),
    "the plan saves {saving} minutes a week on the network's times, {low} to {high} across "
    "the scenarios": (
        "le plan fait gagner {saving} minutes par semaine sur les temps du réseau, {low} à "
        "{high} selon les scénarios"
    ),
    "the plan as decided": "le plan tel que décidé",
    "the best plan for those times": "le meilleur plan pour ces temps",
    "round-trip minutes saved a week": "minutes aller-retour gagnées par semaine",
    "The plan's saving under drive-time scenarios (±15 %)": (
        "Le gain du plan selon les scénarios de temps de trajet (±15 %)"
    ),
    "label": "libellé",
    "trip": "trajet",
    "reference": "référence",
    "scenario": "scénario",
    # 06: the GIS service's GeoPackage
    "{same} of {communes} communes: same count of agents": (
        "{same} communes sur {communes} : même nombre d'agents"
    ),
    "share of the commune's agents placed": "part des agents de la commune placés",
    "agent not placed": "agent non placé",
    "agent placed": "agent placé",
    "telecentre": "télécentre",
    "{placed} of {total} agents placed (synthetic roster)": (
        "{placed} agents placés sur {total} (liste d'agents synthétique)"
    ),
}
MESSAGES.update(NOTEBOOK_LABELS)

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


#: Placeholders whose text is put in as it is: file and folder names, options, paths.
VERBATIM_FIELDS = frozenset(
    {
        "file", "file2", "folder", "path", "source", "option", "text", "target",
        "ancestor", "given", "key_file", "out", "out_dir", "lock_path", "parent", "layer",
        "place", "agents_file",
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


#: The first words of each reason (see :func:`optimizer.ties.reason_label`).
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
def _patterns() -> tuple[tuple[re.Pattern[str], str, frozenset[str]], ...]:
    """Each message with placeholders as a pattern: those starting with words first.

    With each, the placeholders whose text is put in as it is (:data:`VERBATIM_FIELDS`, and
    those between quotes: ``'{value}'`` is a value from the user's file).

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
        verbatim = frozenset(
            part
            for k, part in enumerate(parts)
            if k % 2 == 1
            and (
                part in VERBATIM_FIELDS or (parts[k - 1].endswith("'") and parts[k + 1][:1] == "'")
            )
        )
        out.append(((not parts[0], -literal), re.compile(regex, re.DOTALL), french, verbatim))
    out.sort(key=lambda item: item[0])
    return tuple((pattern, french, verbatim) for _, pattern, french, verbatim in out)


def french_number(text: str) -> str:
    """Write a number the French way: ``2,377.5`` is ``2 377,5``; ``12.5%`` is ``12,5 %``."""
    percent = text.endswith("%")
    body = text[:-1] if percent else text
    body = body.replace(",", "\u202f").replace(".", ",")
    return body + ("\u202f%" if percent else "")


@lru_cache(maxsize=4096)
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
    for pattern, french, verbatim in _patterns():
        match = pattern.fullmatch(text)
        if match is not None:
            return french.format(
                **{k: v if k in verbatim else _piece(v) for k, v in match.groupdict().items()}
            )
    # "agents.csv: row 5: no coordinates ...": a known message after a prefix (a file, a row)
    for colon in re.finditer(": ", text):
        rest = _fr(text[colon.end() :], whole=True)
        if rest is not None:
            head = " : ".join(_piece(p) for p in text[: colon.start()].split(": "))
            return f"{head} : {rest}"
    return None


def _piece(text: str) -> str:
    """French of what a placeholder held: a number, a known word or sentence, a list of them."""
    if text != text.strip():  # " Check the coordinates." after a sentence
        core = text.strip()
        return text.replace(core, _piece(core), 1) if core else text
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


def fill(english: str, lang: Lang, **values: str) -> str:
    """Return a sentence of the catalogue in ``lang``, its placeholders filled as they are.

    For a sentence whose pieces the caller has already put into ``lang`` (the
    command's ``assign: error: {message}``).

    Parameters
    ----------
    english
        The sentence as :data:`MESSAGES` holds it, with its ``{placeholders}``.
    lang
        ``en`` or ``fr``.
    **values
        What each placeholder holds.

    Returns
    -------
    str
        The sentence in ``lang``.
    """
    return (english if lang == "en" else MESSAGES[english]).format(**values)


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
    "fill",
    "knows",
    "localise_summary",
    "localise_table",
    "resolve_lang",
    "translate",
    "translate_column",
]
