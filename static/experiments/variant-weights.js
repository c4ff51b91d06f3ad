'use strict';
// The live total of an experiment's variant weights (in percent) under the variants table.
{
    const WEIGHT = /-weight_percent$/;

    function rows(group) {
        return Array.from(group.querySelectorAll('tr.form-row')).filter(
            (row) => !row.classList.contains('empty-form') && !row.id.endsWith('-empty')
        );
    }

    function update() {
        const group = document.getElementById('variants-group');
        const output = document.getElementById('variant-weight-total');
        if (!group || !output) {
            return;
        }
        let total = 0;
        for (const row of rows(group)) {
            const removed = row.querySelector('input[name$="-DELETE"]');
            const weight = Array.from(row.querySelectorAll('input')).find((input) => WEIGHT.test(input.name));
            if (!weight || (removed && removed.checked) || weight.value.trim() === '') {
                continue;
            }
            total += Number(weight.value);
        }
        if (!group.querySelector('input[name$="-weight_percent"]')) {
            output.hidden = true; // a started experiment: its weights are read-only
            return;
        }
        const rounded = Math.round(total * 100) / 100;
        const ok = Math.abs(rounded - 100) < 0.005;
        output.hidden = false;
        output.classList.toggle('fr-ok', ok);
        output.classList.toggle('fr-off', !ok);
        const left = Math.round((100 - rounded) * 100) / 100;
        const hint = left > 0 ? `${left} % still to give` : `${-left} % too much`;
        output.textContent = ok
            ? `Total: ${rounded} % ✓`
            : `Total: ${rounded} % — the weights must add up to 100 % before it can start (${hint}).`;
    }

    document.addEventListener('input', (event) => {
        if (WEIGHT.test(event.target.name || '') || /-DELETE$/.test(event.target.name || '')) {
            update();
        }
    });
    document.addEventListener('formset:added', update);
    document.addEventListener('formset:removed', update);
    document.addEventListener('DOMContentLoaded', update);
}
