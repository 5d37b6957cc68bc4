package eventstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Verifications keeps phone verification codes (as HMACs, never a phone or
// a code): one live code per subject, the resend limit and the tries, each
// decided by one statement so that concurrent requests on any instance
// cannot race. Times come from the caller, so that tests move a clock.
type Verifications struct{ pool *pgxpool.Pool }

// Verifications returns the codes kept in the store's database.
func (s *Store) Verifications() *Verifications { return &Verifications{pool: s.pool} }

// Issue keeps codeMAC as the subject's code, sent at now and live until
// expiresAt with no tries, unless the subject's last code was sent after
// resendCutoff: then nothing changes, issued is false and lastSentAt says
// when that code went out (zero when it was withdrawn meanwhile). Expired codes of every subject are swept.
func (v *Verifications) Issue(ctx context.Context, subject, codeMAC []byte, now, expiresAt, resendCutoff time.Time) (issued bool, lastSentAt time.Time, err error) {
	if _, err := v.pool.Exec(ctx, `DELETE FROM phone_verifications WHERE expires_at <= $1 AND sent_at <= $2`,
		now, resendCutoff); err != nil {
		return false, time.Time{}, fmt.Errorf("sweep verifications: %w", err)
	}
	err = v.pool.QueryRow(ctx, `INSERT INTO phone_verifications AS v (subject, code_mac, sent_at, expires_at, tries)
		VALUES ($1, $2, $3, $4, 0)
		ON CONFLICT (subject) DO UPDATE
		   SET code_mac = excluded.code_mac, sent_at = excluded.sent_at, expires_at = excluded.expires_at, tries = 0
		 WHERE v.sent_at <= $5
		RETURNING true`, subject, codeMAC, now, expiresAt, resendCutoff).Scan(&issued)
	if err == nil {
		return true, now, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return false, time.Time{}, fmt.Errorf("issue verification: %w", err)
	}
	err = v.pool.QueryRow(ctx, `SELECT sent_at FROM phone_verifications WHERE subject = $1`, subject).Scan(&lastSentAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, time.Time{}, nil // withdrawn in between: the caller may ask again at once
	}
	if err != nil {
		return false, time.Time{}, fmt.Errorf("read verification: %w", err)
	}
	return false, lastSentAt, nil
}

// Check reports whether codeMAC is the subject's live code at now. A wrong
// code counts a try; a code with maxTries wrong tries, or expired, accepts
// nothing, not even the right code. The right code is not used up here:
// Consume does that once what it was asked for has succeeded.
func (v *Verifications) Check(ctx context.Context, subject, codeMAC []byte, now time.Time, maxTries int) (bool, error) {
	var ok bool
	err := v.pool.QueryRow(ctx, `UPDATE phone_verifications
		   SET tries = tries + CASE WHEN code_mac = $2 THEN 0 ELSE 1 END
		 WHERE subject = $1 AND expires_at > $3 AND tries < $4
		RETURNING code_mac = $2`, subject, codeMAC, now, maxTries).Scan(&ok)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check verification: %w", err)
	}
	return ok, nil
}

// Consume uses the subject's code up, if it is still codeMAC. The row goes
// only once its resend limit has passed; until then it stays, spent (no
// tries left), so a consumed code does not let the next one out early.
func (v *Verifications) Consume(ctx context.Context, subject, codeMAC []byte, maxTries int) error {
	if _, err := v.pool.Exec(ctx, `UPDATE phone_verifications SET tries = $3 WHERE subject = $1 AND code_mac = $2`,
		subject, codeMAC, maxTries); err != nil {
		return fmt.Errorf("consume verification: %w", err)
	}
	return nil
}

// Withdraw deletes the subject's code if it is still codeMAC: a code that
// could not be sent neither counts towards the resend limit nor lingers.
func (v *Verifications) Withdraw(ctx context.Context, subject, codeMAC []byte) error {
	if _, err := v.pool.Exec(ctx, `DELETE FROM phone_verifications WHERE subject = $1 AND code_mac = $2`,
		subject, codeMAC); err != nil {
		return fmt.Errorf("withdraw verification: %w", err)
	}
	return nil
}
