-- A card number names one visitor (issue #17, item 8): two visitors with the same card made
-- the desk pick the wrong person. Card numbers compare case-insensitively, as the search does.
-- Must stay equivalent to ../sqlite/0009_visitor_cards.sql.
--
-- A register filled before this rule may hold the same card twice: the oldest visitor keeps
-- it, each later one loses it and is told why in its notes (in French: staff read them on the
-- visitor's page), so that nothing is lost and staff can check who owns the card.
UPDATE visiteurs
SET notes = COALESCE(notes || ' — ', '')
        || 'Carte « ' || carte || ' » retirée à la mise à jour : c''est déjà celle du visiteur n° '
        || (SELECT MIN(o.id) FROM visiteurs o WHERE LOWER(o.carte) = LOWER(visiteurs.carte))
        || '. À vérifier.',
    carte = NULL
WHERE carte IS NOT NULL
  AND EXISTS (
      SELECT 1 FROM visiteurs o
      WHERE LOWER(o.carte) = LOWER(visiteurs.carte) AND o.id < visiteurs.id
  );

CREATE UNIQUE INDEX visiteurs_carte_lower ON visiteurs (LOWER(carte)) WHERE carte IS NOT NULL;
