'use strict';
// Structured document fields: rows that can be added (colours, messaging pillars) and colour swatches.
{
    const HEX = /^#(?:[0-9A-Fa-f]{3}){1,2}$/;

    function swatch(input) {
        const shown = input.parentElement.querySelector('.fr-color-swatch');
        if (shown) {
            // An SVG attribute, not an inline style: the Content-Security-Policy allows no inline style.
            shown.querySelector('rect').setAttribute('fill', HEX.test(input.value.trim()) ? input.value.trim() : 'none');
        }
    }

    function addRow(rows) {
        const all = rows.querySelectorAll('.fr-doc-row');
        const last = all[all.length - 1];
        const index = Number(last.dataset.index) + 1;
        const row = last.cloneNode(true);
        row.dataset.index = String(index);
        row.querySelectorAll('input').forEach((input) => {
            input.name = input.name.replace(/\.\d+\.(\w+)$/, `.${index}.$1`);
            input.id = input.id.replace(/_\d+_(\w+)$/, `_${index}_$1`);
            input.value = '';
        });
        row.querySelectorAll('label').forEach((label) => {
            label.htmlFor = label.htmlFor.replace(/_\d+_(\w+)$/, `_${index}_$1`);
        });
        row.querySelectorAll('.fr-color-swatch rect').forEach((shown) => { shown.setAttribute('fill', 'none'); });
        last.after(row);
        row.querySelector('input').focus();
    }

    document.addEventListener('input', (event) => {
        if (event.target.classList && event.target.classList.contains('fr-color')) {
            swatch(event.target);
        }
    });
    document.addEventListener('DOMContentLoaded', () => {
        document.querySelectorAll('.fr-doc-rows').forEach((rows) => {
            const button = rows.querySelector('.fr-doc-add-row');
            if (button) {
                button.hidden = false;
                button.addEventListener('click', () => addRow(rows));
            }
        });
    });
}
